namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>
/// The POSIX sh the node runs, in one place so it can be read whole. Every script starts with <see cref="Functions"/> and
/// sets <c>R</c> (the root) and <c>U</c> (the unit folder, empty where replicas are never units) first.
/// </summary>
internal static class NodeScripts
{
    /// <summary>Tab-separated replica lines: <c>replica NAME MODE STATE PID STARTTIME PORT EXIT</c>; then <c>bootid ID</c>.</summary>
    public const string Functions = """
        wf_alive() {
          [ -n "$1" ] && [ "$1" != 0 ] && [ -r "/proc/$1/stat" ] || return 1
          read -r wf_s < "/proc/$1/stat" 2>/dev/null || return 1
          wf_s=${wf_s##*) }
          [ "${wf_s%% *}" != Z ]
        }
        wf_start_time() {
          read -r wf_s < "/proc/$1/stat" 2>/dev/null || return 1
          wf_s=${wf_s##*) }
          set -- $wf_s
          echo "${20}"
        }
        wf_inspect() {
          d=$1; n=${d##*/}; port=$(cat "$d/port" 2>/dev/null); pid=; state=; code=; mode=
          if [ -n "$U" ] && [ -f "$U/wrinklefree-$n.service" ]; then
            mode=systemd; as=; ms=
            while IFS== read -r k v; do
              case $k in
                ActiveState) as=$v ;;
                MainPID) pid=$v ;;
                ExecMainStatus) ms=$v ;;
              esac
            done <<WF_SHOW
        $(systemctl show -p ActiveState -p MainPID -p ExecMainStatus "wrinklefree-$n.service" 2>/dev/null)
        WF_SHOW
            case $as in
              active|activating|reloading) state=running ;;
              *) state=exited; code=$ms ;;
            esac
            [ "$pid" = 0 ] && pid=
          elif [ -f "$d/supervisor.pid" ]; then
            mode=supervisor
            sp=$(cat "$d/supervisor.pid" 2>/dev/null); pid=$(cat "$d/child.pid" 2>/dev/null)
            if [ -f "$d/boot" ] && [ "$(cat "$d/boot" 2>/dev/null)" != "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)" ]; then sp=; pid=; fi
            if wf_alive "$sp"; then state=running; else state=exited; code=$(cat "$d/exit" 2>/dev/null); fi
          else
            return 0
          fi
          st=
          if wf_alive "$pid"; then st=$(wf_start_time "$pid"); else pid=; fi
          printf 'replica\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$mode" "$state" "$pid" "$st" "$port" "$code"
        }
        wf_list() {
          for d in "$R"/replicas/*; do
            [ -d "$d" ] && wf_inspect "$d"
          done
          printf 'bootid\t%s\n' "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"
        }
        wf_sha256() {
          if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
          else shasum -a 256 "$1" | cut -d' ' -f1; fi
        }

        """;

    /// <summary>The variable lines every script starts with.</summary>
    public static string Prelude(NodeLayout layout, bool units) =>
        $"R={ShellQuote.Quote(layout.Root)}\nU={(units ? ShellQuote.Quote(NodeLayout.UnitDirectory) : "")}\n" + Functions;
}
