package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// languageHost serves the LanguageRuntime service. Methods it does not implement (code
// generation, templates, packing, plugins written in Node.js, prompts of `pulumi new`)
// answer Unimplemented, which the engine treats as "not supported by this host".
type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	tracing       string
	// The programs running now, stopped when the host is asked to stop.
	programs map[*exec.Cmd]struct{}
}

func newLanguageHost(engineAddress, tracing string) *languageHost {
	return &languageHost{
		engineAddress: engineAddress,
		tracing:       tracing,
		programs:      map[*exec.Cmd]struct{}{},
	}
}

func (h *languageHost) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

// Handshake is how an engine that attaches to an already running host (instead of starting
// it) tells the host its address; a host the engine starts gets it as its argument.
func (h *languageHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.mu.Lock()
		h.engineAddress = req.GetEngineAddress()
		h.mu.Unlock()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// GetRequiredPlugins is the older form of GetRequiredPackages, still asked by older engines.
func (h *languageHost) GetRequiredPlugins(
	_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetProgram() //nolint:staticcheck // what engines before ProgramInfo sent
	}
	var plugins []*pulumirpc.PluginDependency
	for _, p := range requiredPackages(dir) {
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: p.GetName(), Kind: p.GetKind(), Version: p.GetVersion(), Server: p.GetServer(),
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

func (h *languageHost) GetRequiredPackages(
	_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{
		Packages: requiredPackages(req.GetInfo().GetProgramDirectory()),
	}, nil
}

// InstallDependencies is refused: installing is the package manager's job, done by you.
func (h *languageHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	_ grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory() //nolint:staticcheck // what engines before ProgramInfo sent
	}
	return status.Errorf(codes.FailedPrecondition,
		"the %s does not install dependencies: run `npm install` in %s yourself", description, dir)
}

// About reports the Node.js that runs programs, and names this host for what it is.
func (h *languageHost) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "could not find node on PATH: %v", err)
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return nil, status.Errorf(codes.Internal, "`%s --version` failed: %v", node, err)
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimSpace(string(out)),
		Metadata:   map[string]string{"languageHost": description},
	}, nil
}

// GetProgramDependencies lists the program's direct dependencies (package.json) at the
// versions installed where Node.js would resolve them from the program's directory.
func (h *languageHost) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetProgram() //nolint:staticcheck // what engines before ProgramInfo sent
	}
	manifest := filepath.Join(dir, "package.json")
	raw, err := os.ReadFile(manifest)
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "reading %s: %v", manifest, err)
	}
	var pkg packageJSON
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "parsing %s: %v", manifest, err)
	}
	names := make([]string, 0, len(pkg.Dependencies)+len(pkg.DevDependencies))
	for n := range pkg.Dependencies {
		names = append(names, n)
	}
	for n := range pkg.DevDependencies {
		if _, dup := pkg.Dependencies[n]; !dup {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	deps := make([]*pulumirpc.DependencyInfo, 0, len(names))
	for _, n := range names {
		if v, ok := installedVersion(dir, n); ok {
			deps = append(deps, &pulumirpc.DependencyInfo{Name: n, Version: v})
		}
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

// installedVersion finds `name` the way Node.js resolves a bare import: in node_modules of
// the directory and of each parent.
func installedVersion(dir, name string) (string, bool) {
	for d := dir; ; d = filepath.Dir(d) {
		raw, err := os.ReadFile(filepath.Join(d, "node_modules", name, "package.json"))
		if err == nil {
			var pkg packageJSON
			if json.Unmarshal(raw, &pkg) == nil && pkg.Version != "" {
				return pkg.Version, true
			}
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

// Cancel is the engine's graceful stop (the operator interrupted the update): the programs
// running now are interrupted, and their runs end with an error.
func (h *languageHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.stopPrograms()
	return &emptypb.Empty{}, nil
}

func (h *languageHost) track(cmd *exec.Cmd, running bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if running {
		h.programs[cmd] = struct{}{}
	} else {
		delete(h.programs, cmd)
	}
}

// stopPrograms interrupts every running program (the SDK flushes and exits on SIGINT).
func (h *languageHost) stopPrograms() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cmd := range h.programs {
		if cmd.Process != nil {
			_ = cmd.Process.Signal(os.Interrupt)
		}
	}
}
