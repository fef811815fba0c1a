#!/usr/bin/env perl
# queue.pl: runs tasks as one Sun/Son of Grid Engine array job (qsub -t 1:n, task chosen by $SGE_TASK_ID,
# -tc limiting how many run at once), waits for them and reports failures like run.pl. Generic options
# (--mem, --gpu, --num-threads, ...) become qsub options through the lines of conf/queue.conf (or
# --config FILE, or the built-in config below).
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use JobLauncher;

my $builtin_config = <<'CONF';
command qsub -V -cwd -S /bin/bash -j y
option mem=* -l mem_free=$0,ram_free=$0
option mem=0
option num_threads=* -pe smp $0
option num_threads=1
default gpu=0
option gpu=0
option gpu=* -l gpu=$0 -q g.q
CONF

my $parsed = JobLauncher::parse_command_line('queue.pl', <<"TEXT", @ARGV);
Submits the tasks as one Grid Engine array job and waits for them. The job script, the scheduler's own
output and the done files are in the q/ folder next to the logs; the script's first lines show the qsub
command line. Config: --config FILE, else conf/queue.conf if it exists, else this built-in one:
$builtin_config
TEXT

my %backend = (
  name => 'queue.pl',
  conf_file => 'conf/queue.conf',
  builtin => $builtin_config,
  task_env => 'SGE_TASK_ID',
  submit => sub {
    my ($command, $sched_args, $n, $max_jobs_run, $out_log, $job_name, $script) = @_;
    # Grid Engine job names may not start with a digit.
    $job_name = "j$job_name" if $job_name =~ m/^\d/;
    return (@$command, '-N', $job_name, '-o', $out_log, '-t', "1:$n",
            ($max_jobs_run ? ('-tc', $max_jobs_run) : ()), @$sched_args, $script);
  },
  job_id => sub { return $_[0] =~ m/Your job(?:-array)? (\d+)/ ? $1 : undef; },
  running => sub {
    my ($job_id) = @_;
    my $out = `qstat -j $job_id 2>&1`;
    # "Following jobs do not exist" once the job has left the queue; any other failure (qmaster
    # unreachable, no qstat) proves nothing, so the job counts as still there.
    return $? != 0 && $out =~ m/do not exist/ ? 0 : 1;
  },
);
exit JobLauncher::run_on_cluster(\%backend, $parsed);
