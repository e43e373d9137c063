
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'clawctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'clawctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'clawctl' {
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check a fleet file: precise errors, touches no cluster (exit 0 valid, 2 invalid)')
            [CompletionResult]::new('render', 'render', [CompletionResultType]::ParameterValue, 'Print (or write with -o DIR) every manifest of the fleet, in apply order')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what apply would change on the cluster, secrets masked')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Converge the cluster to the fleet: plan, confirm, apply, wait')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'One table: every agent, its image, health, restarts, volume')
            [CompletionResult]::new('rollout', 'rollout', [CompletionResultType]::ParameterValue, 'Move agents to a new image tag: canary first, then waves')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Return agents to a recorded revision (config and image together)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List the revisions of each agent')
            [CompletionResult]::new('suspend', 'suspend', [CompletionResultType]::ParameterValue, 'Scale agents to zero, keeping their volumes and Services, until `resume`')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Start agents suspended by `clawctl suspend` again')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Snapshot agents'' brains (their volumes, secrets left out) to their knowledge bucket')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Replace an agent''s brain with one of its snapshots (asks you to type its name)')
            [CompletionResult]::new('clone', 'clone', [CompletionResultType]::ParameterValue, 'Copy one agent''s brain into another agent of the fleet')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions (also committed under completions/)')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of the fleet file, for editors and yaml-language-server')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a small starter fleet (fleet.yaml and a soul) into a folder')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'clawctl;validate' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--templates', '--templates', [CompletionResultType]::ParameterName, 'A folder of *.yaml.j2 files overriding built-in templates one file at a time')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'clawctl;render' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write one file per object into DIR (<namespace>/<order>-<kind>-<name>.yaml) instead of printing one stream')
            [CompletionResult]::new('--output-dir', '--output-dir', [CompletionResultType]::ParameterName, 'Write one file per object into DIR (<namespace>/<order>-<kind>-<name>.yaml) instead of printing one stream')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'Only this agent''s objects (repeatable)')
            [CompletionResult]::new('--team', '--team', [CompletionResultType]::ParameterName, 'Only this team''s objects and agents (repeatable)')
            [CompletionResult]::new('--templates', '--templates', [CompletionResultType]::ParameterName, 'A folder of *.yaml.j2 files overriding built-in templates one file at a time')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'clawctl;diff' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Requests in flight at once')
            [CompletionResult]::new('--templates', '--templates', [CompletionResultType]::ParameterName, 'A folder of *.yaml.j2 files overriding built-in templates one file at a time')
            [CompletionResult]::new('--exit-code', '--exit-code', [CompletionResultType]::ParameterName, 'Exit 3 when there are changes, 0 when there are none')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'clawctl;apply' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Requests in flight at once')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for readiness (e.g. 90s, 5m)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, '`server`: ask the API server to check every change without storing anything')
            [CompletionResult]::new('--history-max', '--history-max', [CompletionResultType]::ParameterName, 'Revisions kept per agent')
            [CompletionResult]::new('--templates', '--templates', [CompletionResultType]::ParameterName, 'A folder of *.yaml.j2 files overriding built-in templates one file at a time')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Apply without asking (needed when there is no terminal to ask on)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply without asking (needed when there is no terminal to ask on)')
            [CompletionResult]::new('--force-conflicts', '--force-conflicts', [CompletionResultType]::ParameterName, 'Take back fields another field manager changed (server-side apply force)')
            [CompletionResult]::new('--prune', '--prune', [CompletionResultType]::ParameterName, 'Delete the fleet''s objects that left the fleet file (never volumes, unless --delete-volumes)')
            [CompletionResult]::new('--delete-volumes', '--delete-volumes', [CompletionResultType]::ParameterName, 'With --prune: also delete removed agents'' PersistentVolumeClaims (their memory). Asks you to type the fleet name, unless --yes')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Do not wait for the agents to become ready')
            [CompletionResult]::new('--all-at-once', '--all-at-once', [CompletionResultType]::ParameterName, 'Move every agent to a new image at once instead of canary and waves')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'clawctl;status' {
            [CompletionResult]::new('--fleet', '--fleet', [CompletionResultType]::ParameterName, 'The fleet''s name, to show it from the cluster''s labels alone (no file needed)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--templates', '--templates', [CompletionResultType]::ParameterName, 'A folder of *.yaml.j2 files overriding built-in templates one file at a time')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Keep showing the table, refreshed whenever an agent changes (Ctrl-C stops)')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Keep showing the table, refreshed whenever an agent changes (Ctrl-C stops)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'clawctl;rollout' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'The image tag to move to (default: the tag of spec.image)')
            [CompletionResult]::new('--canary-agents', '--canary-agents', [CompletionResultType]::ParameterName, 'Canary agents by name (comma-separated or repeated)')
            [CompletionResult]::new('--canary-count', '--canary-count', [CompletionResultType]::ParameterName, 'This many canary agents (the first by name)')
            [CompletionResult]::new('--canary-percent', '--canary-percent', [CompletionResultType]::ParameterName, 'This percentage of the agents as canaries (rounded up)')
            [CompletionResult]::new('--waves', '--waves', [CompletionResultType]::ParameterName, 'Waves after the canary, as cumulative percentages of the remaining agents')
            [CompletionResult]::new('--soak', '--soak', [CompletionResultType]::ParameterName, 'How long an updated agent must stay healthy (e.g. 60s)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Time limit per wave (e.g. 10m)')
            [CompletionResult]::new('--max-parallel', '--max-parallel', [CompletionResultType]::ParameterName, 'Agents updated at once within a wave')
            [CompletionResult]::new('--history-max', '--history-max', [CompletionResultType]::ParameterName, 'Revisions kept per agent')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (json: one report at the end; with --dry-run, the plan)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (json: one report at the end; with --dry-run, the plan)')
            [CompletionResult]::new('--templates', '--templates', [CompletionResultType]::ParameterName, 'A folder of *.yaml.j2 files overriding built-in templates one file at a time')
            [CompletionResult]::new('--canary', '--canary', [CompletionResultType]::ParameterName, 'Update and gate only the canary agents, record "canary passed", and stop')
            [CompletionResult]::new('--promote', '--promote', [CompletionResultType]::ParameterName, 'Continue a rollout whose canary passed with its waves')
            [CompletionResult]::new('--resume', '--resume', [CompletionResultType]::ParameterName, 'Continue an interrupted rollout where it stopped')
            [CompletionResult]::new('--abort', '--abort', [CompletionResultType]::ParameterName, 'Roll back every agent the unfinished rollout touched, and end it')
            [CompletionResult]::new('--no-auto-rollback', '--no-auto-rollback', [CompletionResultType]::ParameterName, 'Do not roll back when a gate fails (the failed agents stay as they are)')
            [CompletionResult]::new('--no-snapshot', '--no-snapshot', [CompletionResultType]::ParameterName, 'Move images without first snapshotting each moved agent''s brain to its knowledge bucket (agents without a bucket never get one)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Go ahead without asking (needed when there is no terminal to ask on)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Go ahead without asking (needed when there is no terminal to ask on)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan (target image, canary and waves, or what --abort returns) and change nothing')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'clawctl;rollback' {
            [CompletionResult]::new('--fleet', '--fleet', [CompletionResultType]::ParameterName, 'The fleet''s name, when the file is not at hand')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'The agent to roll back (repeatable)')
            [CompletionResult]::new('--to-revision', '--to-revision', [CompletionResultType]::ParameterName, 'The revision to return to (default: the newest earlier revision that passed its health gate and differs from what runs now)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for readiness (e.g. 5m)')
            [CompletionResult]::new('--history-max', '--history-max', [CompletionResultType]::ParameterName, 'Revisions kept per agent')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (with --dry-run, json prints the plan)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (with --dry-run, json prints the plan)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every agent of the fleet')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Do not wait for the agents to become ready')
            [CompletionResult]::new('--no-snapshot', '--no-snapshot', [CompletionResultType]::ParameterName, 'Move images back without first snapshotting each moved agent''s brain to its knowledge bucket')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Go ahead without asking (needed when there is no terminal to ask on)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Go ahead without asking (needed when there is no terminal to ask on)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show each agent''s current revision and the one it would return to; change nothing')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'clawctl;history' {
            [CompletionResult]::new('--fleet', '--fleet', [CompletionResultType]::ParameterName, 'The fleet''s name, when the file is not at hand')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'Only this agent''s revisions')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'clawctl;suspend' {
            [CompletionResult]::new('--team', '--team', [CompletionResultType]::ParameterName, 'Every agent of this team (repeatable)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the agents'' pods to stop (suspend) or be ready (resume)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (with --dry-run, json prints the plan)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (with --dry-run, json prints the plan)')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Do not wait for the pods')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Go ahead without asking (needed when there is no terminal to ask on)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Go ahead without asking (needed when there is no terminal to ask on)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would change; change nothing')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'clawctl;resume' {
            [CompletionResult]::new('--team', '--team', [CompletionResultType]::ParameterName, 'Every agent of this team (repeatable)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the agents'' pods to stop (suspend) or be ready (resume)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (with --dry-run, json prints the plan)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (with --dry-run, json prints the plan)')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Do not wait for the pods')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Go ahead without asking (needed when there is no terminal to ask on)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Go ahead without asking (needed when there is no terminal to ask on)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would change; change nothing')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'clawctl;backup' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Write one agent''s snapshot to this local .tar.gz (streamed out of the cluster) instead of its bucket; never overwrites a file')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long one copy (a Job) may run, and how long to wait for readiness after a restore (e.g. 30m)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (with --dry-run, json prints the plan)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (with --dry-run, json prints the plan)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be copied where; change nothing')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'clawctl;restore' {
            [CompletionResult]::new('--snapshot', '--snapshot', [CompletionResultType]::ParameterName, 'The snapshot in the agent''s bucket to return to (the id `clawctl backup` printed)')
            [CompletionResult]::new('--from-file', '--from-file', [CompletionResultType]::ParameterName, 'A local archive written by `clawctl backup --to` (any agent''s) instead')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long one copy (a Job) may run, and how long to wait for readiness after a restore (e.g. 30m)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (with --dry-run, json prints the plan)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (with --dry-run, json prints the plan)')
            [CompletionResult]::new('--no-snapshot', '--no-snapshot', [CompletionResultType]::ParameterName, 'Do not snapshot the volume being replaced first')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Do not wait for the agent to be ready again')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Replace the agent''s brain without asking you to type its name (needed when there is no terminal to ask on)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Replace the agent''s brain without asking you to type its name (needed when there is no terminal to ask on)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be copied where; change nothing')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'clawctl;clone' {
            [CompletionResult]::new('--snapshot', '--snapshot', [CompletionResultType]::ParameterName, 'Copy this snapshot of SOURCE instead of taking a new one')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long one copy (a Job) may run, and how long to wait for readiness after a restore (e.g. 30m)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format (with --dry-run, json prints the plan)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (with --dry-run, json prints the plan)')
            [CompletionResult]::new('--no-snapshot', '--no-snapshot', [CompletionResultType]::ParameterName, 'Do not snapshot the volume being replaced first')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Do not wait for the agent to be ready again')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Replace the agent''s brain without asking you to type its name (needed when there is no terminal to ask on)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Replace the agent''s brain without asking you to type its name (needed when there is no terminal to ask on)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be copied where; change nothing')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'clawctl;completions' {
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'clawctl;schema' {
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'clawctl;init' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The fleet''s name')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no progress, no summaries')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'clawctl;help' {
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check a fleet file: precise errors, touches no cluster (exit 0 valid, 2 invalid)')
            [CompletionResult]::new('render', 'render', [CompletionResultType]::ParameterValue, 'Print (or write with -o DIR) every manifest of the fleet, in apply order')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what apply would change on the cluster, secrets masked')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Converge the cluster to the fleet: plan, confirm, apply, wait')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'One table: every agent, its image, health, restarts, volume')
            [CompletionResult]::new('rollout', 'rollout', [CompletionResultType]::ParameterValue, 'Move agents to a new image tag: canary first, then waves')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Return agents to a recorded revision (config and image together)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List the revisions of each agent')
            [CompletionResult]::new('suspend', 'suspend', [CompletionResultType]::ParameterValue, 'Scale agents to zero, keeping their volumes and Services, until `resume`')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Start agents suspended by `clawctl suspend` again')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Snapshot agents'' brains (their volumes, secrets left out) to their knowledge bucket')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Replace an agent''s brain with one of its snapshots (asks you to type its name)')
            [CompletionResult]::new('clone', 'clone', [CompletionResultType]::ParameterValue, 'Copy one agent''s brain into another agent of the fleet')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions (also committed under completions/)')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of the fleet file, for editors and yaml-language-server')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a small starter fleet (fleet.yaml and a soul) into a folder')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'clawctl;help;validate' {
            break
        }
        'clawctl;help;render' {
            break
        }
        'clawctl;help;diff' {
            break
        }
        'clawctl;help;apply' {
            break
        }
        'clawctl;help;status' {
            break
        }
        'clawctl;help;rollout' {
            break
        }
        'clawctl;help;rollback' {
            break
        }
        'clawctl;help;history' {
            break
        }
        'clawctl;help;suspend' {
            break
        }
        'clawctl;help;resume' {
            break
        }
        'clawctl;help;backup' {
            break
        }
        'clawctl;help;restore' {
            break
        }
        'clawctl;help;clone' {
            break
        }
        'clawctl;help;completions' {
            break
        }
        'clawctl;help;schema' {
            break
        }
        'clawctl;help;init' {
            break
        }
        'clawctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
