# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_clawctl_global_optspecs
    string join \n q/quiet h/help V/version
end

function __fish_clawctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_clawctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_clawctl_using_subcommand
    set -l cmd (__fish_clawctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c clawctl -n "__fish_clawctl_needs_command" -s q -l quiet -d 'Print only data and errors: no progress, no summaries'
complete -c clawctl -n "__fish_clawctl_needs_command" -s h -l help -d 'Print help'
complete -c clawctl -n "__fish_clawctl_needs_command" -s V -l version -d 'Print version'
complete -c clawctl -n "__fish_clawctl_needs_command" -f -a "validate" -d 'Check a fleet file: precise errors, touches no cluster (exit 0 valid, 2 invalid)'
complete -c clawctl -n "__fish_clawctl_needs_command" -f -a "render" -d 'Print (or write with -o DIR) every manifest of the fleet, in apply order'
complete -c clawctl -n "__fish_clawctl_needs_command" -f -a "diff" -d 'Show what apply would change on the cluster, secrets masked'
complete -c clawctl -n "__fish_clawctl_needs_command" -f -a "apply" -d 'Converge the cluster to the fleet: plan, confirm, apply, wait'
complete -c clawctl -n "__fish_clawctl_needs_command" -f -a "status" -d 'One table: every agent, its image, health, restarts, volume'
complete -c clawctl -n "__fish_clawctl_needs_command" -f -a "rollout" -d 'Move agents to a new image tag: canary first, then waves'
complete -c clawctl -n "__fish_clawctl_needs_command" -f -a "rollback" -d 'Return agents to a recorded revision (config and image together)'
complete -c clawctl -n "__fish_clawctl_needs_command" -f -a "history" -d 'List the revisions of each agent'
complete -c clawctl -n "__fish_clawctl_needs_command" -f -a "suspend" -d 'Scale agents to zero, keeping their volumes and Services, until `resume`'
complete -c clawctl -n "__fish_clawctl_needs_command" -f -a "resume" -d 'Start agents suspended by `clawctl suspend` again'
complete -c clawctl -n "__fish_clawctl_needs_command" -f -a "backup" -d 'Snapshot agents\' brains (their volumes, secrets left out) to their knowledge bucket'
complete -c clawctl -n "__fish_clawctl_needs_command" -f -a "restore" -d 'Replace an agent\'s brain with one of its snapshots (asks you to type its name)'
complete -c clawctl -n "__fish_clawctl_needs_command" -f -a "clone" -d 'Copy one agent\'s brain into another agent of the fleet'
complete -c clawctl -n "__fish_clawctl_needs_command" -f -a "completions" -d 'Print shell completions (also committed under completions/)'
complete -c clawctl -n "__fish_clawctl_needs_command" -f -a "schema" -d 'Print the JSON Schema of the fleet file, for editors and yaml-language-server'
complete -c clawctl -n "__fish_clawctl_needs_command" -f -a "init" -d 'Write a small starter fleet (fleet.yaml and a soul) into a folder'
complete -c clawctl -n "__fish_clawctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c clawctl -n "__fish_clawctl_using_subcommand validate" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable lines'
json\t'A JSON list of {file, line, column, path, message}'"
complete -c clawctl -n "__fish_clawctl_using_subcommand validate" -l templates -d 'A folder of *.yaml.j2 files overriding built-in templates one file at a time' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand validate" -s q -l quiet -d 'Print only data and errors: no progress, no summaries'
complete -c clawctl -n "__fish_clawctl_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c clawctl -n "__fish_clawctl_using_subcommand validate" -s V -l version -d 'Print version'
complete -c clawctl -n "__fish_clawctl_using_subcommand render" -s o -l output-dir -d 'Write one file per object into DIR (<namespace>/<order>-<kind>-<name>.yaml) instead of printing one stream' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand render" -l agent -d 'Only this agent\'s objects (repeatable)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand render" -l team -d 'Only this team\'s objects and agents (repeatable)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand render" -l templates -d 'A folder of *.yaml.j2 files overriding built-in templates one file at a time' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand render" -s q -l quiet -d 'Print only data and errors: no progress, no summaries'
complete -c clawctl -n "__fish_clawctl_using_subcommand render" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c clawctl -n "__fish_clawctl_using_subcommand render" -s V -l version -d 'Print version'
complete -c clawctl -n "__fish_clawctl_using_subcommand diff" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand diff" -l context -d 'The kubeconfig context to use' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand diff" -s o -l output -d 'Output format' -r -f -a "table\t'Tables and text for people'
json\t'One JSON document (documented in the README)'"
complete -c clawctl -n "__fish_clawctl_using_subcommand diff" -l concurrency -d 'Requests in flight at once' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand diff" -l templates -d 'A folder of *.yaml.j2 files overriding built-in templates one file at a time' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand diff" -l exit-code -d 'Exit 3 when there are changes, 0 when there are none'
complete -c clawctl -n "__fish_clawctl_using_subcommand diff" -s q -l quiet -d 'Print only data and errors: no progress, no summaries'
complete -c clawctl -n "__fish_clawctl_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c clawctl -n "__fish_clawctl_using_subcommand diff" -s V -l version -d 'Print version'
complete -c clawctl -n "__fish_clawctl_using_subcommand apply" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand apply" -l context -d 'The kubeconfig context to use' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand apply" -l concurrency -d 'Requests in flight at once' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand apply" -l timeout -d 'How long to wait for readiness (e.g. 90s, 5m)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand apply" -l dry-run -d '`server`: ask the API server to check every change without storing anything' -r -f -a "server\t'Send every change as a server-side dry run and report the server\'s verdict'"
complete -c clawctl -n "__fish_clawctl_using_subcommand apply" -l history-max -d 'Revisions kept per agent' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand apply" -l templates -d 'A folder of *.yaml.j2 files overriding built-in templates one file at a time' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand apply" -s y -l yes -d 'Apply without asking (needed when there is no terminal to ask on)'
complete -c clawctl -n "__fish_clawctl_using_subcommand apply" -l force-conflicts -d 'Take back fields another field manager changed (server-side apply force)'
complete -c clawctl -n "__fish_clawctl_using_subcommand apply" -l prune -d 'Delete the fleet\'s objects that left the fleet file (never volumes, unless --delete-volumes)'
complete -c clawctl -n "__fish_clawctl_using_subcommand apply" -l delete-volumes -d 'With --prune: also delete removed agents\' PersistentVolumeClaims (their memory). Asks you to type the fleet name, unless --yes'
complete -c clawctl -n "__fish_clawctl_using_subcommand apply" -l no-wait -d 'Do not wait for the agents to become ready'
complete -c clawctl -n "__fish_clawctl_using_subcommand apply" -l all-at-once -d 'Move every agent to a new image at once instead of canary and waves'
complete -c clawctl -n "__fish_clawctl_using_subcommand apply" -s q -l quiet -d 'Print only data and errors: no progress, no summaries'
complete -c clawctl -n "__fish_clawctl_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c clawctl -n "__fish_clawctl_using_subcommand apply" -s V -l version -d 'Print version'
complete -c clawctl -n "__fish_clawctl_using_subcommand status" -l fleet -d 'The fleet\'s name, to show it from the cluster\'s labels alone (no file needed)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand status" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand status" -l context -d 'The kubeconfig context to use' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand status" -s o -l output -d 'Output format' -r -f -a "table\t'Tables and text for people'
json\t'One JSON document (documented in the README)'"
complete -c clawctl -n "__fish_clawctl_using_subcommand status" -l templates -d 'A folder of *.yaml.j2 files overriding built-in templates one file at a time' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand status" -s w -l watch -d 'Keep showing the table, refreshed whenever an agent changes (Ctrl-C stops)'
complete -c clawctl -n "__fish_clawctl_using_subcommand status" -s q -l quiet -d 'Print only data and errors: no progress, no summaries'
complete -c clawctl -n "__fish_clawctl_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c clawctl -n "__fish_clawctl_using_subcommand status" -s V -l version -d 'Print version'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l context -d 'The kubeconfig context to use' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l tag -d 'The image tag to move to (default: the tag of spec.image)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l canary-agents -d 'Canary agents by name (comma-separated or repeated)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l canary-count -d 'This many canary agents (the first by name)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l canary-percent -d 'This percentage of the agents as canaries (rounded up)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l waves -d 'Waves after the canary, as cumulative percentages of the remaining agents' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l soak -d 'How long an updated agent must stay healthy (e.g. 60s)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l timeout -d 'Time limit per wave (e.g. 10m)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l max-parallel -d 'Agents updated at once within a wave' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l history-max -d 'Revisions kept per agent' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -s o -l output -d 'Output format (json: one report at the end; with --dry-run, the plan)' -r -f -a "table\t'Tables and text for people'
json\t'One JSON document (documented in the README)'"
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l templates -d 'A folder of *.yaml.j2 files overriding built-in templates one file at a time' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l canary -d 'Update and gate only the canary agents, record "canary passed", and stop'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l promote -d 'Continue a rollout whose canary passed with its waves'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l resume -d 'Continue an interrupted rollout where it stopped'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l abort -d 'Roll back every agent the unfinished rollout touched, and end it'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l no-auto-rollback -d 'Do not roll back when a gate fails (the failed agents stay as they are)'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l no-snapshot -d 'Move images without first snapshotting each moved agent\'s brain to its knowledge bucket (agents without a bucket never get one)'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -s y -l yes -d 'Go ahead without asking (needed when there is no terminal to ask on)'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -l dry-run -d 'Show the plan (target image, canary and waves, or what --abort returns) and change nothing'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -s q -l quiet -d 'Print only data and errors: no progress, no summaries'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollout" -s V -l version -d 'Print version'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollback" -l fleet -d 'The fleet\'s name, when the file is not at hand' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand rollback" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand rollback" -l context -d 'The kubeconfig context to use' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand rollback" -l agent -d 'The agent to roll back (repeatable)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand rollback" -l to-revision -d 'The revision to return to (default: the newest earlier revision that passed its health gate and differs from what runs now)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand rollback" -l timeout -d 'How long to wait for readiness (e.g. 5m)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand rollback" -l history-max -d 'Revisions kept per agent' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand rollback" -s o -l output -d 'Output format (with --dry-run, json prints the plan)' -r -f -a "table\t'Tables and text for people'
json\t'One JSON document (documented in the README)'"
complete -c clawctl -n "__fish_clawctl_using_subcommand rollback" -l all -d 'Every agent of the fleet'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollback" -l no-wait -d 'Do not wait for the agents to become ready'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollback" -l no-snapshot -d 'Move images back without first snapshotting each moved agent\'s brain to its knowledge bucket'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollback" -s y -l yes -d 'Go ahead without asking (needed when there is no terminal to ask on)'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollback" -l dry-run -d 'Show each agent\'s current revision and the one it would return to; change nothing'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollback" -s q -l quiet -d 'Print only data and errors: no progress, no summaries'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollback" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c clawctl -n "__fish_clawctl_using_subcommand rollback" -s V -l version -d 'Print version'
complete -c clawctl -n "__fish_clawctl_using_subcommand history" -l fleet -d 'The fleet\'s name, when the file is not at hand' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand history" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand history" -l context -d 'The kubeconfig context to use' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand history" -l agent -d 'Only this agent\'s revisions' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand history" -s o -l output -d 'Output format' -r -f -a "table\t'Tables and text for people'
json\t'One JSON document (documented in the README)'"
complete -c clawctl -n "__fish_clawctl_using_subcommand history" -s q -l quiet -d 'Print only data and errors: no progress, no summaries'
complete -c clawctl -n "__fish_clawctl_using_subcommand history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c clawctl -n "__fish_clawctl_using_subcommand history" -s V -l version -d 'Print version'
complete -c clawctl -n "__fish_clawctl_using_subcommand suspend" -l team -d 'Every agent of this team (repeatable)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand suspend" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand suspend" -l context -d 'The kubeconfig context to use' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand suspend" -l timeout -d 'How long to wait for the agents\' pods to stop (suspend) or be ready (resume)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand suspend" -s o -l output -d 'Output format (with --dry-run, json prints the plan)' -r -f -a "table\t'Tables and text for people'
json\t'One JSON document (documented in the README)'"
complete -c clawctl -n "__fish_clawctl_using_subcommand suspend" -l no-wait -d 'Do not wait for the pods'
complete -c clawctl -n "__fish_clawctl_using_subcommand suspend" -s y -l yes -d 'Go ahead without asking (needed when there is no terminal to ask on)'
complete -c clawctl -n "__fish_clawctl_using_subcommand suspend" -l dry-run -d 'Show what would change; change nothing'
complete -c clawctl -n "__fish_clawctl_using_subcommand suspend" -s q -l quiet -d 'Print only data and errors: no progress, no summaries'
complete -c clawctl -n "__fish_clawctl_using_subcommand suspend" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c clawctl -n "__fish_clawctl_using_subcommand suspend" -s V -l version -d 'Print version'
complete -c clawctl -n "__fish_clawctl_using_subcommand resume" -l team -d 'Every agent of this team (repeatable)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand resume" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand resume" -l context -d 'The kubeconfig context to use' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand resume" -l timeout -d 'How long to wait for the agents\' pods to stop (suspend) or be ready (resume)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand resume" -s o -l output -d 'Output format (with --dry-run, json prints the plan)' -r -f -a "table\t'Tables and text for people'
json\t'One JSON document (documented in the README)'"
complete -c clawctl -n "__fish_clawctl_using_subcommand resume" -l no-wait -d 'Do not wait for the pods'
complete -c clawctl -n "__fish_clawctl_using_subcommand resume" -s y -l yes -d 'Go ahead without asking (needed when there is no terminal to ask on)'
complete -c clawctl -n "__fish_clawctl_using_subcommand resume" -l dry-run -d 'Show what would change; change nothing'
complete -c clawctl -n "__fish_clawctl_using_subcommand resume" -s q -l quiet -d 'Print only data and errors: no progress, no summaries'
complete -c clawctl -n "__fish_clawctl_using_subcommand resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c clawctl -n "__fish_clawctl_using_subcommand resume" -s V -l version -d 'Print version'
complete -c clawctl -n "__fish_clawctl_using_subcommand backup" -l to -d 'Write one agent\'s snapshot to this local .tar.gz (streamed out of the cluster) instead of its bucket; never overwrites a file' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand backup" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand backup" -l context -d 'The kubeconfig context to use' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand backup" -l timeout -d 'How long one copy (a Job) may run, and how long to wait for readiness after a restore (e.g. 30m)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand backup" -s o -l output -d 'Output format (with --dry-run, json prints the plan)' -r -f -a "table\t'Tables and text for people'
json\t'One JSON document (documented in the README)'"
complete -c clawctl -n "__fish_clawctl_using_subcommand backup" -l dry-run -d 'Show what would be copied where; change nothing'
complete -c clawctl -n "__fish_clawctl_using_subcommand backup" -s q -l quiet -d 'Print only data and errors: no progress, no summaries'
complete -c clawctl -n "__fish_clawctl_using_subcommand backup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c clawctl -n "__fish_clawctl_using_subcommand backup" -s V -l version -d 'Print version'
complete -c clawctl -n "__fish_clawctl_using_subcommand restore" -l snapshot -d 'The snapshot in the agent\'s bucket to return to (the id `clawctl backup` printed)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand restore" -l from-file -d 'A local archive written by `clawctl backup --to` (any agent\'s) instead' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand restore" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand restore" -l context -d 'The kubeconfig context to use' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand restore" -l timeout -d 'How long one copy (a Job) may run, and how long to wait for readiness after a restore (e.g. 30m)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand restore" -s o -l output -d 'Output format (with --dry-run, json prints the plan)' -r -f -a "table\t'Tables and text for people'
json\t'One JSON document (documented in the README)'"
complete -c clawctl -n "__fish_clawctl_using_subcommand restore" -l no-snapshot -d 'Do not snapshot the volume being replaced first'
complete -c clawctl -n "__fish_clawctl_using_subcommand restore" -l no-wait -d 'Do not wait for the agent to be ready again'
complete -c clawctl -n "__fish_clawctl_using_subcommand restore" -s y -l yes -d 'Replace the agent\'s brain without asking you to type its name (needed when there is no terminal to ask on)'
complete -c clawctl -n "__fish_clawctl_using_subcommand restore" -l dry-run -d 'Show what would be copied where; change nothing'
complete -c clawctl -n "__fish_clawctl_using_subcommand restore" -s q -l quiet -d 'Print only data and errors: no progress, no summaries'
complete -c clawctl -n "__fish_clawctl_using_subcommand restore" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c clawctl -n "__fish_clawctl_using_subcommand restore" -s V -l version -d 'Print version'
complete -c clawctl -n "__fish_clawctl_using_subcommand clone" -l snapshot -d 'Copy this snapshot of SOURCE instead of taking a new one' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand clone" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c clawctl -n "__fish_clawctl_using_subcommand clone" -l context -d 'The kubeconfig context to use' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand clone" -l timeout -d 'How long one copy (a Job) may run, and how long to wait for readiness after a restore (e.g. 30m)' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand clone" -s o -l output -d 'Output format (with --dry-run, json prints the plan)' -r -f -a "table\t'Tables and text for people'
json\t'One JSON document (documented in the README)'"
complete -c clawctl -n "__fish_clawctl_using_subcommand clone" -l no-snapshot -d 'Do not snapshot the volume being replaced first'
complete -c clawctl -n "__fish_clawctl_using_subcommand clone" -l no-wait -d 'Do not wait for the agent to be ready again'
complete -c clawctl -n "__fish_clawctl_using_subcommand clone" -s y -l yes -d 'Replace the agent\'s brain without asking you to type its name (needed when there is no terminal to ask on)'
complete -c clawctl -n "__fish_clawctl_using_subcommand clone" -l dry-run -d 'Show what would be copied where; change nothing'
complete -c clawctl -n "__fish_clawctl_using_subcommand clone" -s q -l quiet -d 'Print only data and errors: no progress, no summaries'
complete -c clawctl -n "__fish_clawctl_using_subcommand clone" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c clawctl -n "__fish_clawctl_using_subcommand clone" -s V -l version -d 'Print version'
complete -c clawctl -n "__fish_clawctl_using_subcommand completions" -s q -l quiet -d 'Print only data and errors: no progress, no summaries'
complete -c clawctl -n "__fish_clawctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c clawctl -n "__fish_clawctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c clawctl -n "__fish_clawctl_using_subcommand schema" -s q -l quiet -d 'Print only data and errors: no progress, no summaries'
complete -c clawctl -n "__fish_clawctl_using_subcommand schema" -s h -l help -d 'Print help'
complete -c clawctl -n "__fish_clawctl_using_subcommand schema" -s V -l version -d 'Print version'
complete -c clawctl -n "__fish_clawctl_using_subcommand init" -l name -d 'The fleet\'s name' -r
complete -c clawctl -n "__fish_clawctl_using_subcommand init" -s q -l quiet -d 'Print only data and errors: no progress, no summaries'
complete -c clawctl -n "__fish_clawctl_using_subcommand init" -s h -l help -d 'Print help'
complete -c clawctl -n "__fish_clawctl_using_subcommand init" -s V -l version -d 'Print version'
complete -c clawctl -n "__fish_clawctl_using_subcommand help; and not __fish_seen_subcommand_from validate render diff apply status rollout rollback history suspend resume backup restore clone completions schema init help" -f -a "validate" -d 'Check a fleet file: precise errors, touches no cluster (exit 0 valid, 2 invalid)'
complete -c clawctl -n "__fish_clawctl_using_subcommand help; and not __fish_seen_subcommand_from validate render diff apply status rollout rollback history suspend resume backup restore clone completions schema init help" -f -a "render" -d 'Print (or write with -o DIR) every manifest of the fleet, in apply order'
complete -c clawctl -n "__fish_clawctl_using_subcommand help; and not __fish_seen_subcommand_from validate render diff apply status rollout rollback history suspend resume backup restore clone completions schema init help" -f -a "diff" -d 'Show what apply would change on the cluster, secrets masked'
complete -c clawctl -n "__fish_clawctl_using_subcommand help; and not __fish_seen_subcommand_from validate render diff apply status rollout rollback history suspend resume backup restore clone completions schema init help" -f -a "apply" -d 'Converge the cluster to the fleet: plan, confirm, apply, wait'
complete -c clawctl -n "__fish_clawctl_using_subcommand help; and not __fish_seen_subcommand_from validate render diff apply status rollout rollback history suspend resume backup restore clone completions schema init help" -f -a "status" -d 'One table: every agent, its image, health, restarts, volume'
complete -c clawctl -n "__fish_clawctl_using_subcommand help; and not __fish_seen_subcommand_from validate render diff apply status rollout rollback history suspend resume backup restore clone completions schema init help" -f -a "rollout" -d 'Move agents to a new image tag: canary first, then waves'
complete -c clawctl -n "__fish_clawctl_using_subcommand help; and not __fish_seen_subcommand_from validate render diff apply status rollout rollback history suspend resume backup restore clone completions schema init help" -f -a "rollback" -d 'Return agents to a recorded revision (config and image together)'
complete -c clawctl -n "__fish_clawctl_using_subcommand help; and not __fish_seen_subcommand_from validate render diff apply status rollout rollback history suspend resume backup restore clone completions schema init help" -f -a "history" -d 'List the revisions of each agent'
complete -c clawctl -n "__fish_clawctl_using_subcommand help; and not __fish_seen_subcommand_from validate render diff apply status rollout rollback history suspend resume backup restore clone completions schema init help" -f -a "suspend" -d 'Scale agents to zero, keeping their volumes and Services, until `resume`'
complete -c clawctl -n "__fish_clawctl_using_subcommand help; and not __fish_seen_subcommand_from validate render diff apply status rollout rollback history suspend resume backup restore clone completions schema init help" -f -a "resume" -d 'Start agents suspended by `clawctl suspend` again'
complete -c clawctl -n "__fish_clawctl_using_subcommand help; and not __fish_seen_subcommand_from validate render diff apply status rollout rollback history suspend resume backup restore clone completions schema init help" -f -a "backup" -d 'Snapshot agents\' brains (their volumes, secrets left out) to their knowledge bucket'
complete -c clawctl -n "__fish_clawctl_using_subcommand help; and not __fish_seen_subcommand_from validate render diff apply status rollout rollback history suspend resume backup restore clone completions schema init help" -f -a "restore" -d 'Replace an agent\'s brain with one of its snapshots (asks you to type its name)'
complete -c clawctl -n "__fish_clawctl_using_subcommand help; and not __fish_seen_subcommand_from validate render diff apply status rollout rollback history suspend resume backup restore clone completions schema init help" -f -a "clone" -d 'Copy one agent\'s brain into another agent of the fleet'
complete -c clawctl -n "__fish_clawctl_using_subcommand help; and not __fish_seen_subcommand_from validate render diff apply status rollout rollback history suspend resume backup restore clone completions schema init help" -f -a "completions" -d 'Print shell completions (also committed under completions/)'
complete -c clawctl -n "__fish_clawctl_using_subcommand help; and not __fish_seen_subcommand_from validate render diff apply status rollout rollback history suspend resume backup restore clone completions schema init help" -f -a "schema" -d 'Print the JSON Schema of the fleet file, for editors and yaml-language-server'
complete -c clawctl -n "__fish_clawctl_using_subcommand help; and not __fish_seen_subcommand_from validate render diff apply status rollout rollback history suspend resume backup restore clone completions schema init help" -f -a "init" -d 'Write a small starter fleet (fleet.yaml and a soul) into a folder'
complete -c clawctl -n "__fish_clawctl_using_subcommand help; and not __fish_seen_subcommand_from validate render diff apply status rollout rollback history suspend resume backup restore clone completions schema init help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
