export const USAGE = `berth: pre-warmed workspaces for coding agents

Usage: berth <command> [options]

Commands:
  ls                                  your containers
  create [--pool P] [--name N] [--image I] [--port N ...]
                                      claim a warm container (prints its id)
  exec ID [--timeout MS] -- cmd args  run a command; its exit code becomes berth's (124: timed out)
  rm ID [ID...]                       remove containers
  pools                               pools and how full they are
  health                              gateway health (exit 1 when degraded)
  login --url URL --api-key-stdin     check the key read from stdin and save it (mode 600)

Options:
  --json        machine-readable output (ls, create, pools, health)
  --url URL     the gateway (else BERTH_URL, else the config file)
  -h, --help    this help

The API key comes from BERTH_API_KEY or $XDG_CONFIG_HOME/berth/config.json
(~/.config/berth/config.json), never from the command line.
Exit codes: 0 ok, 1 API or network error, 2 usage or configuration error.

Not available yet: create --repo owner/repo@branch, logs, shell.
`;

/** Commands that arrive with later issues, and what they need first. */
export const NOT_YET: Record<string, string> = {
  logs: 'logs is not available yet: it arrives with the log-streaming API',
  shell: 'shell is not available yet: it arrives with the terminal WebSocket API',
};
