#!/usr/bin/env perl
# run.pl: runs tasks on this machine, with the interface of queue.pl and slurm.pl, so a recipe switches
# between local and cluster runs by changing $cmd only. Options a cluster needs (--mem, --gpu, --config and
# any other --name value) are accepted and ignored here; --num-threads is only recorded in the logs.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use JobLauncher;

my $prog = 'run.pl';
my $parsed = JobLauncher::parse_command_line($prog, <<'TEXT', @ARGV);
Runs the tasks on this machine (all at once unless --max-jobs-run N), e.g.
  run.pl --max-jobs-run 4 JOB=1:8 exp/log/decode.JOB.log python -m phonasr.bin.decode --part JOB
TEXT
my $opts = $parsed->{opts};
my @tasks = JobLauncher::pick_tasks($opts->{pick}, JobLauncher::tasks($parsed));
if (!@tasks) {
  print STDERR "$prog: --pick $opts->{pick}: no task to rerun\n";
  exit 0;
}
my $max_running = $opts->{max_jobs_run} || scalar @tasks;
my $threads = $opts->{num_threads} // 1;

my (%rc, %running);    # task id => exit code; child pid => task
my @queue = @tasks;
while (@queue || %running) {
  while (@queue && keys(%running) < $max_running) {
    my $task = shift @queue;
    my $pid = fork() // JobLauncher::fatal("$prog: cannot fork: $!\n");
    if ($pid == 0) {
      exec('bash', '-c', $JobLauncher::TASK_RUNNER . 'phonasr_run_task "$@"', 'run.pl',
           $task->{log}, $threads, $task->{cmd})
        or JobLauncher::fatal("$prog: cannot run bash: $!\n");
    }
    $running{$pid} = $task;
  }
  my $pid = waitpid(-1, 0);
  last if $pid < 0;
  my $status = $?;
  my $task = delete $running{$pid} or next;
  $rc{$task->{id}} = JobLauncher::exit_code($status);
  # The wrapper shell itself was killed (the OOM killer, a kill -9), so nobody wrote the log's trailer.
  JobLauncher::write_killed_trailer($task->{log}, $status & 127) if $status & 127;
}
exit JobLauncher::report($prog, \%rc, @tasks);
