#!/usr/bin/env python3
"""Start-up time of a server to its first served scrape.

  firstscrape.py URL TIMEOUT_S CMD [ARGS...]

Starts CMD, polls URL in a tight loop (a fresh connection each time, 1 ms
apart) until it answers 200, prints the milliseconds from the start of CMD to
that answer, then stops CMD with SIGTERM (SIGKILL after 5 s) by its pid.
Exits 1 when URL never answered within TIMEOUT_S.
"""
import http.client
import subprocess
import sys
import time
import urllib.parse


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    url = urllib.parse.urlsplit(sys.argv[1])
    timeout = float(sys.argv[2])
    cmd = sys.argv[3:]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ms = None
    try:
        while time.monotonic() - t0 < timeout:
            if proc.poll() is not None:
                break
            try:
                c = http.client.HTTPConnection(url.hostname, url.port, timeout=1)
                c.request("GET", url.path or "/")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    ms = (time.monotonic() - t0) * 1000
                    break
            except OSError:
                pass
            time.sleep(0.001)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    if ms is None:
        print("never")
        sys.exit(1)
    print("%.1f" % ms)


if __name__ == "__main__":
    main()
