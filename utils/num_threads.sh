# shellcheck shell=bash
# --num-threads has one meaning in every script and worker (the workers read it with
# phonasr.utils.cli.thread_count): N >= 1 runs each job (process) with N CPU threads and reserves N CPUs from a
# cluster launcher (queue.pl -pe smp N, slurm.pl --cpus-per-task N); 0 leaves torch its own choice, a thread per
# core of the machine the job lands on, and gives the launcher no --num-threads (it reserves its default).
# Source it before the help message (which quotes $(num_threads_help)), call check_num_threads after
# parse_options.sh. Functions, not variables: parse_options.sh would take a variable for an option.

num_threads_help() { echo "N >= 1: N threads (a cluster --cmd reserves N CPUs); 0: torch's choice, one per core"; }

# check_num_threads VALUE: dies unless VALUE is 0 or a positive integer (needs utils/log.sh).
check_num_threads() {
  [[ $1 =~ ^[0-9]+$ ]] || die "--num-threads must be 0 (torch's choice) or a positive integer, got '$1'"
}
