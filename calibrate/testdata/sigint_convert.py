#!/usr/bin/python3
"""SIGINT -> exit latency of `ann2snn convert --bias joint` on vgg16h, by phase.

Usage: sigint_convert.py ANN2SNN DELAY... (seconds after start to send SIGINT)

For each delay it starts the conversion (cifar10 data, as in
/work/shared/models/README.md), sends SIGINT after DELAY seconds, and prints
the exit status, the time from SIGINT to exit, the phase the error message
names (when it names one: the CLI now prints only "interrupted"; see
BenchmarkConvertCancel for the latency by phase) and the message. Run it on an otherwise idle machine for numbers that
mean something; docs/reliability.md has the results.
"""
import re, signal, subprocess, sys, time

MODEL = "/work/shared/models/vgg16h_cifar10_relu.onnx"
DATA = ["--data", "cifar10:/work/shared/datasets/cifar10",
        "--mean", "0.4914,0.4822,0.4465", "--std", "0.2470,0.2435,0.2616"]


def phase(msg):
    if "threshold search" in msg:
        return "threshold search"
    if "simulating images" in msg:
        return "bias: SNN simulation"
    if "summarising" in msg:
        return "calibration (histograms)"
    m = re.search(r"images (\d+)\.\.(\d+)", msg)
    if m and int(m.group(2)) > 255:
        return "calibration (reads/ANN)"
    if "ANN pass" in msg or m:
        return "calibration or bias ANN means"
    if "context canceled" in msg:
        return "before calibration (loading)"
    return "?"


def main():
    exe, delays = sys.argv[1], [float(d) for d in sys.argv[2:]]
    print("| SIGINT after | exit | SIGINT→exit | phase | message |")
    print("|---|---|---|---|---|")
    for d in delays:
        p = subprocess.Popen([exe, "convert", *DATA, "--bias", "joint", "-o", "/tmp/sigint_convert.snn", MODEL],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(d)
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        err = p.communicate()[1].strip().splitlines()
        dt = time.monotonic() - t0
        msg = err[-1] if err else ""
        msg = re.sub(r"^ann2snn convert: \S+: ", "", msg)
        print(f"| {d:.1f} s | {p.returncode} | {dt*1000:.0f} ms | {phase(msg)} | {msg[:110]} |", flush=True)


if __name__ == "__main__":
    main()
