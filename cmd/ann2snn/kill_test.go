package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// TestMain lets a test run the command itself in a child process (the
// test binary re-executed with ANN2SNN_TEST_MAIN=1), so that it can be
// sent real signals.
func TestMain(m *testing.M) {
	if os.Getenv("ANN2SNN_TEST_MAIN") == "1" {
		main()
		return
	}
	code := m.Run()
	if fixtures != nil { // the battery's files (battery_test.go)
		os.RemoveAll(fixtures.dir)
	}
	os.Exit(code)
}

// TestFinetuneKillAndResume interrupts a real `ann2snn finetune` process
// with SIGINT after its first epoch, while it trains the second, checks that it exits non-zero naming the
// checkpoint it wrote, resumes from that checkpoint with --resume and
// requires the result to be byte-identical to an uninterrupted run.
func TestFinetuneKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("fine-tunes LeNet three times")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "lenet_t1.snn")
	if code, _, stderr := runCLI(t, "convert", lenet, "--data", "mnist", "--calib", "128", "--timesteps", "1", "--signed=false", "-o", src); code != exitOK {
		t.Fatalf("convert: %s", stderr)
	}
	args := []string{"finetune", src, "--data", "mnist", "--timesteps", "1", "--epochs", "2", "--subset", "2048",
		"--batch", "32", "--eval-limit", "64", "--seed", "5"}
	ref := filepath.Join(dir, "ref.snn")
	if code, _, stderr := runCLI(t, append(args, "-o", ref)...); code != exitOK {
		t.Fatalf("uninterrupted finetune: %s", stderr)
	}

	ck := filepath.Join(dir, "ck.snn")
	cmd := exec.Command(os.Args[0], append(args, "-o", ck)...)
	cmd.Env = append(os.Environ(), "ANN2SNN_TEST_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The child prints a line when epoch 1 ends; the signal then reaches it
	// at the start of epoch 2 or during it (an epoch takes about a second
	// here, whatever the machine's load when the test started).
	signalled := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if !signalled && strings.HasPrefix(sc.Text(), "epoch 1/") {
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			signalled = true
		}
	}
	err = cmd.Wait()
	if !signalled || err == nil {
		t.Fatalf("the child was not interrupted (signalled %v, exit %v); stderr:\n%s", signalled, err, stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("interrupted run exited with %d, want %d", code, exitInterrupted)
	}
	msg := stderr.String()
	if !regexp.MustCompile(`interrupted at epoch \d+ step \d+: checkpoint written to .*ck\.snn \(continue with --resume\)`).MatchString(msg) {
		t.Fatalf("interrupted run: %v, stderr:\n%s", err, msg)
	}
	t.Logf("child: %s", bytes.TrimSpace(stderr.Bytes()))
	if code, _, stderr := runCLI(t, append(args, "-o", ck, "--resume")...); code != exitOK {
		t.Fatalf("resume: %s", stderr)
	}
	a, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("interrupted and resumed run differs from the uninterrupted one")
	}
}

// TestHoldInterrupt checks the section counting that lets finetune finish
// writing its checkpoint after the interrupt grace: released() stays open
// while a section is held and closes when the last one ends.
func TestHoldInterrupt(t *testing.T) {
	h := &holds{}
	ctx := context.WithValue(context.Background(), holdsKey{}, h)
	closed := func(c <-chan struct{}) bool {
		select {
		case <-c:
			return true
		default:
			return false
		}
	}
	r1 := holdInterrupt(ctx)
	r2 := holdInterrupt(ctx)
	c := h.released()
	if closed(c) {
		t.Fatal("released while two sections are held")
	}
	r1()
	if closed(c) {
		t.Fatal("released while one section is held")
	}
	r2()
	if !closed(c) {
		t.Fatal("not released after the last section")
	}
	holdInterrupt(context.Background())() // no handler: a no-op
}
