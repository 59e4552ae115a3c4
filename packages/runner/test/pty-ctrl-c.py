# Runs a command in a pseudo-terminal as a person would, presses Ctrl-C once
# its output matches a pattern, and prints everything it printed followed by
# "exit status N" (negative: killed by signal -N).
# usage: python3 pty-ctrl-c.py <pattern> <timeout s> <command…>
import os, pty, re, select, signal, sys, time

pattern = re.compile(sys.argv[1].encode())
deadline = time.time() + float(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[3], sys.argv[3:])
out = b''
pressed = False
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if ready:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the terminal's last process is gone
            break
        if not data:
            break
        out += data
    if not pressed and pattern.search(out):
        os.write(fd, b'\x03')  # the terminal turns it into SIGINT for its foreground group
        pressed = True
else:
    os.kill(pid, signal.SIGKILL)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors='replace'))
sys.stdout.write('\nexit status %d\n' % os.waitstatus_to_exitcode(status))
