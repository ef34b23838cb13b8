namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>
/// The supervisor of a replica where systemd is absent (written to the replica folder as <c>supervise</c>, run as
/// <c>setsid nohup /bin/sh supervise DIR</c>): the same contract as the unit. It runs <c>DIR/run</c> with <c>DIR/env.sh</c>
/// in a session of its own (so a signal reaches everything the replica spawned), records <c>supervisor.pid</c> and
/// <c>child.pid</c>, restarts the replica after a non-zero exit with a doubling delay (on-failure), stops for good after a
/// clean exit, and forwards SIGTERM to the replica for a drain. Its output, and the replica's, is appended to the log.
/// </summary>
internal static class SupervisorScript
{
    /// <summary>The script; <c>$1</c> is the replica folder, <c>$2</c> the first restart delay in seconds.</summary>
    public const string Text = """
        d=$1; delay=$2
        echo $$ > "$d/supervisor.pid"
        cat /proc/sys/kernel/random/boot_id > "$d/boot" 2>/dev/null
        rm -f "$d/exit"
        child=; stopping=; trapped=
        trap 'stopping=1; trapped=1; [ -n "$child" ] && { kill -TERM "-$child" 2>/dev/null || kill -TERM "$child" 2>/dev/null; }' TERM INT
        trap '' HUP
        first=$delay
        while :; do
          [ -f "$d/stop" ] && { echo 0 > "$d/exit"; break; }
          ( set -a; . "$d/env.sh"; set +a; exec setsid /bin/sh "$d/run" ) &
          child=$!
          echo "$child" > "$d/child.pid"
          started=$(date +%s)
          while :; do
            wait "$child"; code=$?
            [ -z "$trapped" ] && break
            trapped=
          done
          child=
          rm -f "$d/child.pid"
          if [ -n "$stopping" ] || [ -f "$d/stop" ]; then
            echo "--- wf: replica stopped (exit code $code) ---"
            echo "$code" > "$d/exit"; break
          fi
          if [ "$code" -eq 0 ]; then
            echo "--- wf: replica exited cleanly; not restarting it (on-failure) ---"
            echo 0 > "$d/exit"; break
          fi
          [ $(( $(date +%s) - started )) -ge 60 ] && delay=$first
          echo "--- wf: replica exited with code $code; restarting in ${delay}s ---"
          sleep "$delay" & s=$!
          wait "$s"; kill "$s" 2>/dev/null
          trapped=
          if [ -n "$stopping" ] || [ -f "$d/stop" ]; then
            echo "$code" > "$d/exit"; break
          fi
          delay=$((delay * 2)); [ "$delay" -gt 30 ] && delay=30
        done
        """;
}
