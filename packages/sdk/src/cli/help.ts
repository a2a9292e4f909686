export const USAGE = `berth: pre-warmed workspaces for coding agents

Usage: berth <command> [options]

Commands:
  ls                                  your containers
  create [--pool P] [--name N] [--image I | --template T] [--port N ...] [--volume V] [--repo owner/repo@branch]
         [--cpus C] [--memory MB] [--disk MB]
                                      claim a warm container (prints its id); with --repo,
                                      set it up from the repository, showing each phase and
                                      the clone, install and start output as it comes (stderr);
                                      --volume mounts your named volume V (made if new);
                                      --cpus/--memory/--disk: limits other than the pool's
                                      (a cold create), within your key's maxima
  exec ID [--timeout MS] -- cmd args  run a command, its output shown as it comes; its exit code
                                      becomes berth's (124: timed out; Ctrl-C stops it: 130)
  cp SRC DST                          copy a file or directory into or out of a container
                                      (one of them ID:PATH; directories as tar, streamed)
  logs [-f] [--tail N] [--since TIME] ID
                                      container output (-f follows, resuming after drops)
  watch [-r] ID PATH                  a directory's changes as they happen (created, modified,
                                      deleted; -r: the whole tree), until the container is
                                      paused or removed
  shell ID                            interactive shell; its exit code becomes berth's
  rm ID [ID...]                       remove containers (all it can; exit 1 names the others)
  pause ID [ID...]                    freeze containers (files, ports, setup kept; memory
                                      back to the host); a command for one resumes it
  resume ID [ID...]                   thaw paused containers
  usage ID                            CPU, memory, pids, network, and LLM requests, tokens,
                                      spend and limits of a container
  llm-key revoke|rotate ID            revoke the container's LLM key, or give it a new one
  preview ID PORT [--expires S]       a share link to the container's published PORT that opens
                                      without a key until it expires (1 h by default)
  preview revoke ID PREVIEW_ID        end a share link at once
  pools                               pools and how full they are
  volumes [rm NAME...]                your named volumes (kept until removed), or remove them
  template build --name N (-f FILE | DIR)
                                      build a workspace image from a Dockerfile (or a context
                                      directory with its Dockerfile) on every host, its output
                                      shown as it comes (stderr); create --template N uses it
  template ls | template rm NAME...   your templates and the hosts they are built on, or remove them
  health                              gateway health (exit 1 when degraded)
  login --url URL --api-key-stdin     check the key read from stdin and save it (mode 600)

Options:
  --json        machine-readable output (ls, create, usage, llm-key, preview, pools, volumes, template, health;
                logs and watch as JSON lines)
  --url URL     the gateway (else BERTH_URL, else the config file)
  -h, --help    this help
  --version     the CLI's version

The API key comes from BERTH_API_KEY or $XDG_CONFIG_HOME/berth/config.json
(~/.config/berth/config.json), never from the command line.
Exit codes: 0 ok, 1 API or network error, 2 usage or configuration error, 130 interrupted.
`;
