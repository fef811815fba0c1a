# shellcheck shell=bash
# Stage selection for recipes. Source it after utils/parse_options.sh and utils/log.sh: it checks that $stage and
# $stop_stage are whole numbers (a typo would otherwise make every stage test false and the recipe do nothing) and
# defines
#   run_stage N   true when stage N lies within --stage .. --stop-stage
# shellcheck disable=SC2154  # stage and stop_stage are the recipe's options
for _stage_option in "$stage" "$stop_stage"; do
  [[ $_stage_option =~ ^[0-9]+$ ]] || die "--stage and --stop-stage take whole numbers, got '$_stage_option'"
done
unset _stage_option

run_stage() { [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; }
