package JobLauncher;
# What run.pl, queue.pl and slurm.pl share: the command-line interface
#   LAUNCHER [--opt value ...] [NAME=a:b] LOG command ...
# the per-task log format (header, output, accounting and "Ended" trailer, written by one bash function so a
# task's log looks the same whichever launcher ran it), --pick, and the failure summary. queue.pl and
# slurm.pl also share the cluster side: option mapping through a queue config file, the job script under
# the log dir's q/ folder, and waiting on done files. Each launcher only adds what is specific to it.
use strict;
use warnings;
use Cwd qw(getcwd abs_path);
use File::Basename qw(dirname basename);
use File::Path qw(make_path);
use POSIX qw(strftime);
use Time::HiRes qw(sleep time);

our $VERSION = '1.0';

# A user error: the message and exit code 1 (plain die would exit with whatever errno happens to be).
sub fatal {
  print STDERR @_;
  exit 1;
}

# Runs one task: LOG THREADS COMMAND [DONE_FILE]. The exit code of the command is the function's, and is
# also written to DONE_FILE when given (cluster jobs), so the submitting launcher learns it without parsing
# scheduler output. pipefail makes `a | b` fail when a fails, as users of Kaldi's launchers expect.
our $TASK_RUNNER = <<'BASH';
phonasr_run_task() {
  local log=$1 threads=$2 cmd=$3 done_file=${4:-} start rc
  mkdir -p "$(dirname "$log")" || return 1
  { printf '# %s\n' "$cmd"; printf '# Started at %s\n' "$(date)"; } >"$log" || return 1
  start=$(date +%s)
  bash -o pipefail -c "$cmd" >>"$log" 2>&1
  rc=$?
  {
    printf '# Accounting: time=%d threads=%d\n' "$(( $(date +%s) - start ))" "$threads"
    printf '# Ended (code %d) at %s\n' "$rc" "$(date)"
  } >>"$log"
  if [ -n "$done_file" ]; then
    echo "$rc" >"$done_file.tmp" && mv "$done_file.tmp" "$done_file"
  fi
  return "$rc"
}
BASH

# The exit code of a finished child from its wait status ($?), the way bash reports it: a child killed by
# signal S is 128 + S. `$? >> 8` alone is 0 for a killed child, which would count a killed task as a success.
sub exit_code {
  my ($status) = @_;
  return $status & 127 ? 128 + ($status & 127) : $status >> 8;
}

# Ends the log of a task whose wrapper shell was killed by signal $signal before it could write the trailer
# itself, with the same "# Ended (code N)" line, so log_state and --pick see a failed task.
sub write_killed_trailer {
  my ($log, $signal) = @_;
  open(my $fh, '>>', $log) or return;
  print $fh "# Killed by signal $signal (trailer written by the launcher)\n";
  print $fh "# Ended (code " . (128 + $signal) . ") at " . strftime('%a %b %e %H:%M:%S %Z %Y', localtime) . "\n";
  close $fh;
}

my $USAGE_COMMON = <<'TEXT';
  NAME=a:b  runs tasks a..b (or NAME=a: one task), replacing NAME by the task number in LOG and in the
            command; every task writes its own log, so LOG must contain NAME when there are several tasks.
            Without it, one task runs.
  The command is run by bash: arguments with white space are quoted, others are kept as they are, so
  `\|` passes a pipe; a single argument is used as a whole bash command line ("a | b > c").
  The log holds "# <command>", "# Started at <date>", the output, "# Accounting: time=<s> threads=<n>"
  and "# Ended (code <rc>) at <date>". The launcher exits non-zero if any task failed and names a failed log.
Options (each takes a value):
  --pick failed|incomplete   rerun only the tasks whose log ends with a non-zero code (failed) or has no
                             "Ended" line (incomplete: never run, or cut off by a scheduler or with the
                             launcher itself; run.pl ends the log of a task killed under it with code 128+signal)
  --max-jobs-run N           run at most N tasks at the same time
  --num-threads N            threads each task uses (recorded in the log; requested from the scheduler)
  --mem SIZE                 memory per task, e.g. 4G
  --gpu N                    GPUs per task
  --config FILE              queue configuration (queue.pl, slurm.pl)
TEXT

# Parses the command line; returns a hash with opts (name => value, dashes turned into underscores), var,
# start, end (the task range), log and cmd_args. Exits with the usage text on --help or too few arguments.
sub parse_command_line {
  my ($prog, $summary, @args) = @_;
  my $usage = "Usage: $prog [options] [JOB=1:N] LOG command [args...]\n$summary\n$USAGE_COMMON";
  if (!@args) { print STDERR $usage; exit 1; }
  if ($args[0] eq '--help' || $args[0] eq '-h') { print $usage; exit 0; }
  my %opts;
  while (@args && $args[0] =~ m/^--(.+)$/) {
    my $name = $1;
    shift @args;
    last if $name eq '';    # a bare "--" ends the options
    fatal "$prog: options take the form --name value, not --$name\n" if $name =~ m/=/;
    fatal "$prog: option --$name needs a value\n" unless @args;
    $name =~ s/-/_/g;
    $opts{$name} = shift @args;
  }
  if (defined $opts{pick} && $opts{pick} !~ m/^(failed|incomplete)$/) {
    fatal "$prog: --pick takes 'failed' or 'incomplete', not '$opts{pick}'\n";
  }
  for my $name (qw(max_jobs_run num_threads gpu)) {
    fatal "$prog: --" . ($name =~ s/_/-/gr) . " takes a whole number, not '$opts{$name}'\n"
      if defined $opts{$name} && $opts{$name} !~ m/^\d+$/;
  }
  my ($var, $start, $end);
  if (@args && $args[0] =~ m/^([A-Za-z_]\w*)=(\d+)(?::(\d+))?$/) {
    ($var, $start, $end) = ($1, $2, defined $3 ? $3 : $2);
    shift @args;
    fatal "$prog: empty task range $var=$start:$end\n" if $end < $start;
  } elsif (@args && $args[0] =~ m/^[A-Za-z_]\w*=\S*:/) {
    fatal "$prog: bad task range '$args[0]' (expected NAME=a:b with whole numbers)\n";
  }
  fatal $usage if @args < 2;
  my $log = shift @args;
  if (defined $var && $end > $start && index($log, $var) < 0) {
    fatal "$prog: $var=$start:$end runs several tasks, so the log name '$log' must contain $var\n";
  }
  return {opts => \%opts, var => $var, start => $start, end => $end, log => $log, cmd_args => \@args};
}

# One bash command line from the arguments (see the usage text for the quoting rule).
sub command_string {
  my @args = @_;
  return $args[0] if @args == 1;
  return join ' ', map { (m/\s/ || $_ eq '') ? shell_quote($_) : $_ } @args;
}

sub shell_quote {
  my ($s) = @_;
  $s =~ s/'/'\\''/g;
  return "'$s'";
}

# The tasks of a parsed command line: a list of {id, log, cmd}, with the range variable substituted.
sub tasks {
  my ($parsed) = @_;
  my ($var, $start, $end) = @$parsed{qw(var start end)};
  my @ids = defined $var ? ($start .. $end) : (1);
  my @tasks;
  for my $id (@ids) {
    my ($log, @args) = ($parsed->{log}, @{$parsed->{cmd_args}});
    if (defined $var) { s/\Q$var\E/$id/g for ($log, @args); }
    push @tasks, {id => $id, log => $log, cmd => command_string(@args)};
  }
  return @tasks;
}

# 'done', 'failed' or 'incomplete' from a task log's last "# Ended (code N)" line.
sub log_state {
  my ($log) = @_;
  open(my $fh, '<', $log) or return 'incomplete';
  my $state = 'incomplete';
  while (my $line = <$fh>) {
    $state = $1 == 0 ? 'done' : 'failed' if $line =~ m/^# Ended \(code (\d+)\)/;
  }
  close $fh;
  return $state;
}

# The tasks --pick selects (all of them without --pick).
sub pick_tasks {
  my ($pick, @tasks) = @_;
  return @tasks unless defined $pick;
  return grep { log_state($_->{log}) eq $pick } @tasks;
}

# Prints the failure summary and returns the launcher's exit code. $rc maps task id to exit code (undef:
# the task never reported one).
sub report {
  my ($prog, $rc, @tasks) = @_;
  my @failed = grep { !defined $rc->{$_->{id}} || $rc->{$_->{id}} != 0 } @tasks;
  return 0 unless @failed;
  my $log = $failed[0]{log};
  if (@tasks == 1) {
    print STDERR "$prog: job failed, log is in $log\n";
  } else {
    print STDERR "$prog: " . scalar(@failed) . " / " . scalar(@tasks) . " failed, log is in $log\n";
  }
  return 1;
}

# ---------------------------------------------------------------------------------------------------------
# Cluster launchers (queue.pl, slurm.pl).

# Reads a Kaldi queue config: "command PROGRAM ARGS...", "option NAME=VALUE ARGS" (exact value),
# "option NAME=* ARGS" (any value, $0 replaced by it) and "default NAME=VALUE". Returns
# {command => [...], exact => {name => {value => args}}, any => {name => args}, default => {name => value}}.
sub read_queue_config {
  my ($prog, $file, $text) = @_;
  my %conf = (command => [], exact => {}, any => {}, default => {});
  my $n = 0;
  for my $line (split /\n/, $text) {
    $n++;
    $line =~ s/#.*$//;
    $line =~ s/^\s+|\s+$//g;
    next if $line eq '';
    if ($line =~ m/^command\s+(.+)$/) {
      $conf{command} = [split ' ', $1];
    } elsif ($line =~ m/^option\s+(\w+)=\*(?:\s+(.*))?$/) {
      $conf{any}{$1} = defined $2 ? $2 : '';
    } elsif ($line =~ m/^option\s+(\w+)=(\S+)(?:\s+(.*))?$/) {
      $conf{exact}{$1}{$2} = defined $3 ? $3 : '';
    } elsif ($line =~ m/^default\s+(\w+)=(\S+)$/) {
      $conf{default}{$1} = $2;
    } else {
      fatal "$prog: $file line $n: cannot parse '$line' (expected command/option/default lines)\n";
    }
  }
  fatal "$prog: $file has no 'command' line\n" unless @{$conf{command}};
  return \%conf;
}

# The config to use: --config FILE, else conf/<name> in the current directory, else the built-in one.
sub load_queue_config {
  my ($prog, $opts, $default_file, $builtin) = @_;
  my $file = $opts->{config};
  if (!defined $file && -f $default_file) { $file = $default_file; }
  return read_queue_config($prog, 'built-in config', $builtin) unless defined $file;
  open(my $fh, '<', $file) or fatal "$prog: cannot read config file $file: $!\n";
  my $text = do { local $/; <$fh> };
  close $fh;
  return read_queue_config($prog, $file, $text);
}

# Scheduler arguments for the options (with the config's defaults for those not given). Options the
# launchers handle themselves (pick, config, max_jobs_run) are skipped; any other option must be in the config.
sub scheduler_args {
  my ($prog, $conf, $opts) = @_;
  my %values = (%{$conf->{default}}, %$opts);
  delete @values{qw(pick config max_jobs_run)};
  my @args;
  for my $name (sort keys %values) {
    my $value = $values{$name};
    my $mapped;
    if (exists $conf->{exact}{$name} && exists $conf->{exact}{$name}{$value}) {
      $mapped = $conf->{exact}{$name}{$value};
    } elsif (exists $conf->{any}{$name}) {
      ($mapped = $conf->{any}{$name}) =~ s/\$0/$value/g;
    } else {
      fatal "$prog: option --" . ($name =~ s/_/-/gr) . " $value is not in the queue config "
        . "(add a line 'option $name=* ...' to it)\n";
    }
    push @args, split(' ', $mapped);
  }
  return @args;
}

# Submits the tasks as one array job and waits for them. $backend holds what differs between schedulers:
#   name        launcher name for messages          task_env   variable holding the array index (1..n)
#   conf_file   default config file                 builtin    built-in config text
#   submit      sub(\@command, \@sched_args, $n, $max_jobs_run, $out_log, $job_name, $script) -> argv
#   job_id      sub($submit_output) -> job id        running    sub($job_id) -> 0 (gone), 1 (queued/running)
# Returns the exit code for the launcher.
sub run_on_cluster {
  my ($backend, $parsed) = @_;
  my $prog = $backend->{name};
  my $opts = $parsed->{opts};
  my @tasks = pick_tasks($opts->{pick}, tasks($parsed));
  if (!@tasks) {
    print STDERR "$prog: --pick $opts->{pick}: no task to rerun\n";
    return 0;
  }
  my $conf = load_queue_config($prog, $opts, $backend->{conf_file}, $backend->{builtin});
  my @sched_args = scheduler_args($prog, $conf, $opts);

  # q/ next to the logs holds the job script, the scheduler's own output and the done files.
  my $qdir = dirname($parsed->{log}) . "/q";
  make_path($qdir);
  $qdir = abs_path($qdir);
  my $base = basename($parsed->{log});
  $base =~ s/\Q$parsed->{var}\E/all/g if defined $parsed->{var};
  $base =~ s/\.log$//;
  my $script = "$qdir/$base.sh";
  my $out_log = "$qdir/$base.log";
  my $done = "$qdir/$base.$$.done";
  unlink glob("\Q$done\E.*");
  my $threads = $opts->{num_threads} // 1;

  my @argv = $backend->{submit}->($conf->{command}, \@sched_args, scalar(@tasks), $opts->{max_jobs_run},
                                  $out_log, $base, $script);
  write_job_script($script, $backend->{task_env}, $threads, $done, \@argv, @tasks);
  my $output = capture_submit($prog, $out_log, @argv);
  my $job_id = $backend->{job_id}->($output);
  fatal "$prog: could not find the job id in the output of '@argv': $output\n" unless defined $job_id;

  my %rc = wait_for_done($backend, $job_id, $done, @tasks);
  unlink glob("\Q$done\E.*");
  for my $i (0 .. $#tasks) {
    next if defined $rc{$tasks[$i]{id}};
    print STDERR "$prog: task $tasks[$i]{id} (job $job_id index " . ($i + 1) . ") ended without reporting "
      . "an exit code (killed or lost by the scheduler?); see $tasks[$i]{log} and the scheduler's output in $qdir\n";
  }
  return report($prog, \%rc, @tasks);
}

# The job script: array index i (1..n) runs the i-th task, in the directory the launcher was called from,
# after sourcing ./path.sh there if it exists (as Kaldi's job scripts do).
sub write_job_script {
  my ($script, $task_env, $threads, $done, $argv, @tasks) = @_;
  my $cwd = getcwd();
  open(my $fh, '>', "$script.tmp") or fatal "cannot write $script.tmp: $!\n";
  print $fh "#!/usr/bin/env bash\n";
  print $fh "# Submitted with: " . join(' ', map { m/^[\w\/.:=%,+-]+$/ ? $_ : shell_quote($_) } @$argv) . "\n";
  print $fh "cd " . shell_quote($cwd) . " || exit 1\n";
  print $fh "[ -f ./path.sh ] && . ./path.sh\n";
  print $fh $TASK_RUNNER;
  print $fh "case \${$task_env:-} in\n";
  for my $i (0 .. $#tasks) {
    my $t = $tasks[$i];
    print $fh "  " . ($i + 1) . ") phonasr_run_task " . join(' ', map { shell_quote($_) }
      ($t->{log}, $threads, $t->{cmd}, "$done." . ($i + 1))) . " ;;\n";
  }
  print $fh "  *) echo \"\$0: unknown array index '\${$task_env:-}'\" >&2; exit 1 ;;\n";
  print $fh "esac\n";
  close $fh or fatal "cannot write $script.tmp: $!\n";
  chmod 0755, "$script.tmp";
  rename "$script.tmp", $script or fatal "cannot rename $script.tmp to $script: $!\n";
}

sub capture_submit {
  my ($prog, $out_log, @argv) = @_;
  open(my $fh, '-|', @argv) or fatal "$prog: cannot run $argv[0]: $!\n";
  my $output = do { local $/; <$fh> } // '';
  close $fh;
  if ($? != 0) {
    fatal "$prog: submission failed (exit code " . exit_code($?) . "): @argv\n$output";
  }
  return $output;
}

# Polls the done files (every 0.1 s at first, backing off to 1 s). Every 10 s it asks the scheduler whether
# the job still exists; once it does not, tasks without a done file get 5 s more (slow shared file systems)
# and are then treated as failed.
sub wait_for_done {
  my ($backend, $job_id, $done, @tasks) = @_;
  my (%rc, $gone_since);
  my ($delay, $last_check) = (0.1, time);
  while (1) {
    for my $i (0 .. $#tasks) {
      my $id = $tasks[$i]{id};
      next if defined $rc{$id};
      my $file = "$done." . ($i + 1);
      next unless -f $file;
      open(my $fh, '<', $file) or next;
      my $code = <$fh>;
      close $fh;
      $rc{$id} = $1 if defined $code && $code =~ m/^(\d+)/;
    }
    return %rc if keys(%rc) == @tasks;
    if (defined $gone_since) {
      return %rc if time - $gone_since > 5;
    } elsif (time - $last_check >= 10) {
      $last_check = time;
      $gone_since = time unless $backend->{running}->($job_id);
    }
    sleep $delay;
    $delay = $delay * 1.5 > 1 ? 1 : $delay * 1.5;
  }
}

1;
