/**
 * A terminal program for xterm that appends "<epoch ms> <char>" to a file for every character
 * it receives, so a test can tell when typing stopped arriving.
 */
export const KEY_RECORDER_PY = `
import sys, tty, time
fd = sys.stdin.fileno()
tty.setraw(fd)
out = open(sys.argv[1], 'a', buffering=1)
while True:
    ch = sys.stdin.read(1)
    out.write('%d %s\\n' % (int(time.time() * 1000), 'NL' if ch in '\\r\\n' else ch))
`;
