#!/usr/bin/env perl
# slurm.pl: runs tasks as one Slurm array job (sbatch --array 1-n%max, task chosen by $SLURM_ARRAY_TASK_ID),
# waits for them and reports failures like run.pl. Generic options (--mem, --gpu, --num-threads, ...) become
# sbatch options through the lines of conf/slurm.conf (or --config FILE, or the built-in config below).
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use JobLauncher;

my $builtin_config = <<'CONF';
command sbatch --export=ALL --ntasks=1
option mem=* --mem $0
option mem=0
option num_threads=* --cpus-per-task $0
option num_threads=1
default gpu=0
option gpu=0
option gpu=* --gres=gpu:$0
option time=* --time $0
CONF

my $parsed = JobLauncher::parse_command_line('slurm.pl', <<"TEXT", @ARGV);
Submits the tasks as one Slurm array job and waits for them. The job script, Slurm's own output and the
done files are in the q/ folder next to the logs; the script's first lines show the sbatch command line.
Config: --config FILE, else conf/slurm.conf if it exists, else this built-in one:
$builtin_config
TEXT

my %backend = (
  name => 'slurm.pl',
  conf_file => 'conf/slurm.conf',
  builtin => $builtin_config,
  task_env => 'SLURM_ARRAY_TASK_ID',
  submit => sub {
    my ($command, $sched_args, $n, $max_jobs_run, $out_log, $job_name, $script) = @_;
    my $array = "1-$n" . ($max_jobs_run ? "%$max_jobs_run" : '');
    (my $out = $out_log) =~ s/\.log$/.%a.log/;
    return (@$command, '--parsable', "--job-name=$job_name", "--array=$array", "--output=$out",
            @$sched_args, $script);
  },
  job_id => sub { return $_[0] =~ m/^(\d+)/ ? $1 : undef; },
  running => sub {
    my ($job_id) = @_;
    my $out = `squeue --noheader --jobs=$job_id --format=%T 2>&1`;
    # squeue lists pending and running tasks; it forgets finished jobs after a while ("Invalid job id").
    # Any other failure (controller unreachable) proves nothing, so the job counts as still there.
    return 0 if ($? == 0 && $out !~ m/\S/) || $out =~ m/Invalid job id/i;
    return 1;
  },
);
exit JobLauncher::run_on_cluster(\%backend, $parsed);
