
use builtin;
use str;

set edit:completion:arg-completer[clawctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'clawctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'clawctl'= {
            cand -q 'Print only data and errors: no progress, no summaries'
            cand --quiet 'Print only data and errors: no progress, no summaries'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand validate 'Check a fleet file: precise errors, touches no cluster (exit 0 valid, 2 invalid)'
            cand render 'Print (or write with -o DIR) every manifest of the fleet, in apply order'
            cand diff 'Show what apply would change on the cluster, secrets masked'
            cand apply 'Converge the cluster to the fleet: plan, confirm, apply, wait'
            cand status 'One table: every agent, its image, health, restarts, volume'
            cand rollout 'Move agents to a new image tag: canary first, then waves'
            cand rollback 'Return agents to a recorded revision (config and image together)'
            cand history 'List the revisions of each agent'
            cand suspend 'Scale agents to zero, keeping their volumes and Services, until `resume`'
            cand resume 'Start agents suspended by `clawctl suspend` again'
            cand backup 'Snapshot agents'' brains (their volumes, secrets left out) to their knowledge bucket'
            cand restore 'Replace an agent''s brain with one of its snapshots (asks you to type its name)'
            cand clone 'Copy one agent''s brain into another agent of the fleet'
            cand completions 'Print shell completions (also committed under completions/)'
            cand schema 'Print the JSON Schema of the fleet file, for editors and yaml-language-server'
            cand init 'Write a small starter fleet (fleet.yaml and a soul) into a folder'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'clawctl;validate'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand --templates 'A folder of *.yaml.j2 files overriding built-in templates one file at a time'
            cand -q 'Print only data and errors: no progress, no summaries'
            cand --quiet 'Print only data and errors: no progress, no summaries'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'clawctl;render'= {
            cand -o 'Write one file per object into DIR (<namespace>/<order>-<kind>-<name>.yaml) instead of printing one stream'
            cand --output-dir 'Write one file per object into DIR (<namespace>/<order>-<kind>-<name>.yaml) instead of printing one stream'
            cand --agent 'Only this agent''s objects (repeatable)'
            cand --team 'Only this team''s objects and agents (repeatable)'
            cand --templates 'A folder of *.yaml.j2 files overriding built-in templates one file at a time'
            cand -q 'Print only data and errors: no progress, no summaries'
            cand --quiet 'Print only data and errors: no progress, no summaries'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'clawctl;diff'= {
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)'
            cand --context 'The kubeconfig context to use'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --concurrency 'Requests in flight at once'
            cand --templates 'A folder of *.yaml.j2 files overriding built-in templates one file at a time'
            cand --exit-code 'Exit 3 when there are changes, 0 when there are none'
            cand -q 'Print only data and errors: no progress, no summaries'
            cand --quiet 'Print only data and errors: no progress, no summaries'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'clawctl;apply'= {
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)'
            cand --context 'The kubeconfig context to use'
            cand --concurrency 'Requests in flight at once'
            cand --timeout 'How long to wait for readiness (e.g. 90s, 5m)'
            cand --dry-run '`server`: ask the API server to check every change without storing anything'
            cand --history-max 'Revisions kept per agent'
            cand --templates 'A folder of *.yaml.j2 files overriding built-in templates one file at a time'
            cand -y 'Apply without asking (needed when there is no terminal to ask on)'
            cand --yes 'Apply without asking (needed when there is no terminal to ask on)'
            cand --force-conflicts 'Take back fields another field manager changed (server-side apply force)'
            cand --prune 'Delete the fleet''s objects that left the fleet file (never volumes, unless --delete-volumes)'
            cand --delete-volumes 'With --prune: also delete removed agents'' PersistentVolumeClaims (their memory). Asks you to type the fleet name, unless --yes'
            cand --no-wait 'Do not wait for the agents to become ready'
            cand --all-at-once 'Move every agent to a new image at once instead of canary and waves'
            cand -q 'Print only data and errors: no progress, no summaries'
            cand --quiet 'Print only data and errors: no progress, no summaries'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'clawctl;status'= {
            cand --fleet 'The fleet''s name, to show it from the cluster''s labels alone (no file needed)'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)'
            cand --context 'The kubeconfig context to use'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --templates 'A folder of *.yaml.j2 files overriding built-in templates one file at a time'
            cand -w 'Keep showing the table, refreshed whenever an agent changes (Ctrl-C stops)'
            cand --watch 'Keep showing the table, refreshed whenever an agent changes (Ctrl-C stops)'
            cand -q 'Print only data and errors: no progress, no summaries'
            cand --quiet 'Print only data and errors: no progress, no summaries'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'clawctl;rollout'= {
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)'
            cand --context 'The kubeconfig context to use'
            cand --tag 'The image tag to move to (default: the tag of spec.image)'
            cand --canary-agents 'Canary agents by name (comma-separated or repeated)'
            cand --canary-count 'This many canary agents (the first by name)'
            cand --canary-percent 'This percentage of the agents as canaries (rounded up)'
            cand --waves 'Waves after the canary, as cumulative percentages of the remaining agents'
            cand --soak 'How long an updated agent must stay healthy (e.g. 60s)'
            cand --timeout 'Time limit per wave (e.g. 10m)'
            cand --max-parallel 'Agents updated at once within a wave'
            cand --history-max 'Revisions kept per agent'
            cand -o 'Output format (json: one report at the end; with --dry-run, the plan)'
            cand --output 'Output format (json: one report at the end; with --dry-run, the plan)'
            cand --templates 'A folder of *.yaml.j2 files overriding built-in templates one file at a time'
            cand --canary 'Update and gate only the canary agents, record "canary passed", and stop'
            cand --promote 'Continue a rollout whose canary passed with its waves'
            cand --resume 'Continue an interrupted rollout where it stopped'
            cand --abort 'Roll back every agent the unfinished rollout touched, and end it'
            cand --no-auto-rollback 'Do not roll back when a gate fails (the failed agents stay as they are)'
            cand --no-snapshot 'Move images without first snapshotting each moved agent''s brain to its knowledge bucket (agents without a bucket never get one)'
            cand -y 'Go ahead without asking (needed when there is no terminal to ask on)'
            cand --yes 'Go ahead without asking (needed when there is no terminal to ask on)'
            cand --dry-run 'Show the plan (target image, canary and waves, or what --abort returns) and change nothing'
            cand -q 'Print only data and errors: no progress, no summaries'
            cand --quiet 'Print only data and errors: no progress, no summaries'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'clawctl;rollback'= {
            cand --fleet 'The fleet''s name, when the file is not at hand'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)'
            cand --context 'The kubeconfig context to use'
            cand --agent 'The agent to roll back (repeatable)'
            cand --to-revision 'The revision to return to (default: the newest earlier revision that passed its health gate and differs from what runs now)'
            cand --timeout 'How long to wait for readiness (e.g. 5m)'
            cand --history-max 'Revisions kept per agent'
            cand -o 'Output format (with --dry-run, json prints the plan)'
            cand --output 'Output format (with --dry-run, json prints the plan)'
            cand --all 'Every agent of the fleet'
            cand --no-wait 'Do not wait for the agents to become ready'
            cand --no-snapshot 'Move images back without first snapshotting each moved agent''s brain to its knowledge bucket'
            cand -y 'Go ahead without asking (needed when there is no terminal to ask on)'
            cand --yes 'Go ahead without asking (needed when there is no terminal to ask on)'
            cand --dry-run 'Show each agent''s current revision and the one it would return to; change nothing'
            cand -q 'Print only data and errors: no progress, no summaries'
            cand --quiet 'Print only data and errors: no progress, no summaries'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'clawctl;history'= {
            cand --fleet 'The fleet''s name, when the file is not at hand'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)'
            cand --context 'The kubeconfig context to use'
            cand --agent 'Only this agent''s revisions'
            cand -o 'Output format'
            cand --output 'Output format'
            cand -q 'Print only data and errors: no progress, no summaries'
            cand --quiet 'Print only data and errors: no progress, no summaries'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'clawctl;suspend'= {
            cand --team 'Every agent of this team (repeatable)'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)'
            cand --context 'The kubeconfig context to use'
            cand --timeout 'How long to wait for the agents'' pods to stop (suspend) or be ready (resume)'
            cand -o 'Output format (with --dry-run, json prints the plan)'
            cand --output 'Output format (with --dry-run, json prints the plan)'
            cand --no-wait 'Do not wait for the pods'
            cand -y 'Go ahead without asking (needed when there is no terminal to ask on)'
            cand --yes 'Go ahead without asking (needed when there is no terminal to ask on)'
            cand --dry-run 'Show what would change; change nothing'
            cand -q 'Print only data and errors: no progress, no summaries'
            cand --quiet 'Print only data and errors: no progress, no summaries'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'clawctl;resume'= {
            cand --team 'Every agent of this team (repeatable)'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)'
            cand --context 'The kubeconfig context to use'
            cand --timeout 'How long to wait for the agents'' pods to stop (suspend) or be ready (resume)'
            cand -o 'Output format (with --dry-run, json prints the plan)'
            cand --output 'Output format (with --dry-run, json prints the plan)'
            cand --no-wait 'Do not wait for the pods'
            cand -y 'Go ahead without asking (needed when there is no terminal to ask on)'
            cand --yes 'Go ahead without asking (needed when there is no terminal to ask on)'
            cand --dry-run 'Show what would change; change nothing'
            cand -q 'Print only data and errors: no progress, no summaries'
            cand --quiet 'Print only data and errors: no progress, no summaries'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'clawctl;backup'= {
            cand --to 'Write one agent''s snapshot to this local .tar.gz (streamed out of the cluster) instead of its bucket; never overwrites a file'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)'
            cand --context 'The kubeconfig context to use'
            cand --timeout 'How long one copy (a Job) may run, and how long to wait for readiness after a restore (e.g. 30m)'
            cand -o 'Output format (with --dry-run, json prints the plan)'
            cand --output 'Output format (with --dry-run, json prints the plan)'
            cand --dry-run 'Show what would be copied where; change nothing'
            cand -q 'Print only data and errors: no progress, no summaries'
            cand --quiet 'Print only data and errors: no progress, no summaries'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'clawctl;restore'= {
            cand --snapshot 'The snapshot in the agent''s bucket to return to (the id `clawctl backup` printed)'
            cand --from-file 'A local archive written by `clawctl backup --to` (any agent''s) instead'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)'
            cand --context 'The kubeconfig context to use'
            cand --timeout 'How long one copy (a Job) may run, and how long to wait for readiness after a restore (e.g. 30m)'
            cand -o 'Output format (with --dry-run, json prints the plan)'
            cand --output 'Output format (with --dry-run, json prints the plan)'
            cand --no-snapshot 'Do not snapshot the volume being replaced first'
            cand --no-wait 'Do not wait for the agent to be ready again'
            cand -y 'Replace the agent''s brain without asking you to type its name (needed when there is no terminal to ask on)'
            cand --yes 'Replace the agent''s brain without asking you to type its name (needed when there is no terminal to ask on)'
            cand --dry-run 'Show what would be copied where; change nothing'
            cand -q 'Print only data and errors: no progress, no summaries'
            cand --quiet 'Print only data and errors: no progress, no summaries'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'clawctl;clone'= {
            cand --snapshot 'Copy this snapshot of SOURCE instead of taking a new one'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)'
            cand --context 'The kubeconfig context to use'
            cand --timeout 'How long one copy (a Job) may run, and how long to wait for readiness after a restore (e.g. 30m)'
            cand -o 'Output format (with --dry-run, json prints the plan)'
            cand --output 'Output format (with --dry-run, json prints the plan)'
            cand --no-snapshot 'Do not snapshot the volume being replaced first'
            cand --no-wait 'Do not wait for the agent to be ready again'
            cand -y 'Replace the agent''s brain without asking you to type its name (needed when there is no terminal to ask on)'
            cand --yes 'Replace the agent''s brain without asking you to type its name (needed when there is no terminal to ask on)'
            cand --dry-run 'Show what would be copied where; change nothing'
            cand -q 'Print only data and errors: no progress, no summaries'
            cand --quiet 'Print only data and errors: no progress, no summaries'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'clawctl;completions'= {
            cand -q 'Print only data and errors: no progress, no summaries'
            cand --quiet 'Print only data and errors: no progress, no summaries'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'clawctl;schema'= {
            cand -q 'Print only data and errors: no progress, no summaries'
            cand --quiet 'Print only data and errors: no progress, no summaries'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'clawctl;init'= {
            cand --name 'The fleet''s name'
            cand -q 'Print only data and errors: no progress, no summaries'
            cand --quiet 'Print only data and errors: no progress, no summaries'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'clawctl;help'= {
            cand validate 'Check a fleet file: precise errors, touches no cluster (exit 0 valid, 2 invalid)'
            cand render 'Print (or write with -o DIR) every manifest of the fleet, in apply order'
            cand diff 'Show what apply would change on the cluster, secrets masked'
            cand apply 'Converge the cluster to the fleet: plan, confirm, apply, wait'
            cand status 'One table: every agent, its image, health, restarts, volume'
            cand rollout 'Move agents to a new image tag: canary first, then waves'
            cand rollback 'Return agents to a recorded revision (config and image together)'
            cand history 'List the revisions of each agent'
            cand suspend 'Scale agents to zero, keeping their volumes and Services, until `resume`'
            cand resume 'Start agents suspended by `clawctl suspend` again'
            cand backup 'Snapshot agents'' brains (their volumes, secrets left out) to their knowledge bucket'
            cand restore 'Replace an agent''s brain with one of its snapshots (asks you to type its name)'
            cand clone 'Copy one agent''s brain into another agent of the fleet'
            cand completions 'Print shell completions (also committed under completions/)'
            cand schema 'Print the JSON Schema of the fleet file, for editors and yaml-language-server'
            cand init 'Write a small starter fleet (fleet.yaml and a soul) into a folder'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'clawctl;help;validate'= {
        }
        &'clawctl;help;render'= {
        }
        &'clawctl;help;diff'= {
        }
        &'clawctl;help;apply'= {
        }
        &'clawctl;help;status'= {
        }
        &'clawctl;help;rollout'= {
        }
        &'clawctl;help;rollback'= {
        }
        &'clawctl;help;history'= {
        }
        &'clawctl;help;suspend'= {
        }
        &'clawctl;help;resume'= {
        }
        &'clawctl;help;backup'= {
        }
        &'clawctl;help;restore'= {
        }
        &'clawctl;help;clone'= {
        }
        &'clawctl;help;completions'= {
        }
        &'clawctl;help;schema'= {
        }
        &'clawctl;help;init'= {
        }
        &'clawctl;help;help'= {
        }
    ]
    $completions[$command]
}
