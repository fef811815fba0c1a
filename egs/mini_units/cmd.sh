# shellcheck shell=bash
# How stages launch their jobs. Local machine by default; for a cluster switch these lines, e.g.
#   SGE:   export train_cmd="utils/queue.pl --mem 4G"  cuda_cmd="utils/queue.pl --gpu 1 --mem 16G"
#   Slurm: export train_cmd="utils/slurm.pl --mem 4G"  cuda_cmd="utils/slurm.pl --gpu 1 --mem 16G"
# Option mapping for the cluster lives in conf/queue.conf or conf/slurm.conf (built-in defaults otherwise).
export train_cmd="utils/run.pl"
export decode_cmd="utils/run.pl"
export cuda_cmd="utils/run.pl --gpu 1"
