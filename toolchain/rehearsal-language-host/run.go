package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const (
	// The SDK's entry point that connects to the engine and loads the program.
	defaultRunModule = "@pulumi/pulumi/cmd/run"
	// The exit code cmd/run uses after it has shown the user an actionable error itself:
	// the engine then stops without adding a message of its own (a "bail").
	exitAfterUserActionableMessage = 32
)

// nodeOptions are the `runtime.options` of Pulumi.yaml that matter to running a program.
type nodeOptions struct {
	typescript bool
	tsconfig   string
	nodeargs   []string
}

func parseOptions(raw map[string]any) (nodeOptions, error) {
	// TypeScript programs are the default, as with Pulumi's host.
	opts := nodeOptions{typescript: true}
	if v, ok := raw["typescript"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return opts, errors.New("runtime option typescript must be a boolean")
		}
		opts.typescript = b
	}
	if v, ok := raw["tsconfig"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("runtime option tsconfig must be a string")
		}
		opts.tsconfig = s
	}
	if v, ok := raw["nodeargs"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("runtime option nodeargs must be a string")
		}
		if strings.ContainsAny(s, `"'\`) {
			return opts, errors.New("runtime option nodeargs: quoted arguments are not supported by the rehearsal language host; use plain space-separated flags")
		}
		opts.nodeargs = strings.Fields(s)
	}
	return opts, nil
}

// Run runs the program once: Node.js on @pulumi/pulumi's cmd/run, which connects to the
// engine's resource monitor and loads the program. The program's failure is the response's
// error (or a bail when the program already reported it); only a broken request is an RPC error.
func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	programDir, entryPoint := req.GetInfo().GetProgramDirectory(), req.GetInfo().GetEntryPoint()
	if programDir == "" {
		programDir, entryPoint = req.GetPwd(), req.GetProgram() //nolint:staticcheck // engines before ProgramInfo
	}
	if entryPoint == "" {
		entryPoint = "."
	}
	opts, err := parseOptions(req.GetInfo().GetOptions().AsMap())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "could not find node on the $PATH: " + err.Error()}, nil
	}
	runModule := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH")
	if runModule == "" {
		runModule = defaultRunModule
	}
	runPath, err := resolveModule(ctx, node, programDir, runModule)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	config, err := configJSON(req.GetConfig())
	if err != nil {
		return &pulumirpc.RunResponse{Error: "failed to serialize configuration: " + err.Error()}, nil
	}
	secretKeys, err := json.Marshal(nonNil(req.GetConfigSecretKeys()))
	if err != nil {
		return &pulumirpc.RunResponse{Error: "failed to serialize configuration secret keys: " + err.Error()}, nil
	}

	env := append(os.Environ(), "PULUMI_CONFIG="+config, "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}
	args := append(append([]string{}, opts.nodeargs...), h.runArguments(req, runPath, programDir, entryPoint)...)

	cmd := exec.Command(node, args...)
	cmd.Dir = programDir
	cmd.Env = env
	// Through pipes, not our own descriptors: Node.js may switch a shared descriptor to
	// non-blocking mode, which would break the engine's reading of ours.
	cmd.Stdout = struct{ io.Writer }{os.Stdout}
	cmd.Stderr = struct{ io.Writer }{os.Stderr}
	// A process the program left behind holding those pipes must not hold the run open.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return &pulumirpc.RunResponse{
			Error: "Problem executing program (could not run language executor): " + err.Error(),
		}, nil
	}
	h.track(cmd, true)
	defer h.track(cmd, false)

	// The engine cancelling the call (or going away) interrupts the program, then kills it.
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-done:
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
			}
		}
	}()

	err = cmd.Wait()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == exitAfterUserActionableMessage:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() > 0:
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
		}, nil
	case errors.As(err, &exitErr):
		return &pulumirpc.RunResponse{Error: "Program exited unexpectedly: " + exitErr.String()}, nil
	default:
		return &pulumirpc.RunResponse{
			Error: "Problem executing program (could not run language executor): " + err.Error(),
		}, nil
	}
}

// runArguments is cmd/run's command line: the engine's addresses, the run's identity and
// mode, then the program and its own arguments.
func (h *languageHost) runArguments(req *pulumirpc.RunRequest, runPath, programDir, entryPoint string) []string {
	args := []string{runPath}
	add := func(flag, value string) {
		if value != "" {
			args = append(args, "--"+flag, value)
		}
	}
	// The engine's monitor, directly: @pulumi/pulumi no longer needs its host to proxy it.
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engine())
	add("organization", req.GetOrganization())
	add("project", req.GetProject())
	add("stack", req.GetStack())
	add("root-directory", req.GetInfo().GetRootDirectory())
	add("pwd", programDir)
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("tracing", h.tracing)
	args = append(args, entryPoint)
	return append(args, req.GetArgs()...)
}

// resolveModule finds a module the way the program itself would (from its directory).
func resolveModule(ctx context.Context, node, programDir, module string) (string, error) {
	script := fmt.Sprintf("process.stdout.write(require.resolve(%q))", module)
	cmd := exec.CommandContext(ctx, node, "-e", script)
	cmd.Dir = programDir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf(
			"It looks like the Pulumi SDK has not been installed: %s cannot be resolved from %s. Run `npm install` there",
			module, programDir)
	}
	return strings.TrimSpace(string(out)), nil
}

// configJSON is the PULUMI_CONFIG the SDK reads: keys in their `<namespace>:config:<name>`
// form, which every @pulumi/pulumi version understands.
func configJSON(config map[string]string) (string, error) {
	out := make(map[string]string, len(config))
	for k, v := range config {
		ns, name, err := splitConfigKey(k)
		if err != nil {
			return "", err
		}
		out[ns+":config:"+name] = v
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func splitConfigKey(key string) (string, string, error) {
	parts := strings.Split(key, ":")
	switch {
	case len(parts) == 2 && parts[0] != "" && parts[1] != "":
		return parts[0], parts[1], nil
	case len(parts) == 3 && parts[1] == "config" && parts[0] != "" && parts[2] != "":
		return parts[0], parts[2], nil
	default:
		return "", "", fmt.Errorf("could not parse %q as a configuration key (expected <namespace>:<name>)", key)
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
