package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// packageJSON is what this host reads of a package.json.
type packageJSON struct {
	Name            string            `json:"name"`
	Version         string            `json:"version"`
	Pulumi          pulumiMetadata    `json:"pulumi"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
}

// pulumiMetadata is the `pulumi` section a Pulumi package's package.json carries: whether it
// needs a resource plugin, and which.
type pulumiMetadata struct {
	Resource         bool              `json:"resource"`
	Name             string            `json:"name"`
	Version          string            `json:"version"`
	Server           string            `json:"server"`
	Parameterization *parameterization `json:"parameterization"`
}

type parameterization struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Base64 in package.json, bytes here (encoding/json decodes []byte from base64).
	Value []byte `json:"value"`
}

// requiredPackages finds the resource plugins a program needs, as Pulumi's Node.js host
// does: every package.json inside a node_modules directory below the program's directory
// whose `pulumi.resource` is true. Packages resolved from above the program's directory
// (a parent's node_modules) are not seen; the engine then loads such plugins on first use.
// Unreadable entries are skipped: discovery is a hint for installing plugins ahead of time.
func requiredPackages(programDir string) []*pulumirpc.PackageDependency {
	if programDir == "" {
		return nil
	}
	seen := map[string]bool{}
	var out []*pulumirpc.PackageDependency
	walkPackages(programDir, false, map[string]bool{}, func(pkg packageJSON) {
		dep, ok := pluginDependency(pkg)
		if !ok {
			return
		}
		key := dep.GetName() + "@" + dep.GetVersion() + "@" + dep.GetServer()
		if dep.GetParameterization() != nil {
			key += "@" + dep.GetParameterization().GetName() + "@" + dep.GetParameterization().GetVersion()
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, dep)
		}
	})
	return out
}

func walkPackages(dir string, inNodeModules bool, visited map[string]bool, visit func(packageJSON)) {
	abs, err := filepath.Abs(dir)
	if err != nil || visited[abs] {
		return
	}
	visited[abs] = true
	entries, err := os.ReadDir(abs)
	if err != nil {
		return
	}
	for _, e := range entries {
		path := filepath.Join(abs, e.Name())
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			// Linked packages (workspaces, pnpm): follow them once.
			target, err := filepath.EvalSymlinks(path)
			if err != nil {
				continue
			}
			info, err := os.Stat(target)
			if err != nil {
				continue
			}
			path, isDir = target, info.IsDir()
		}
		switch {
		case isDir:
			// A policy pack's plugins are not the program's.
			if _, err := os.Stat(filepath.Join(path, "PulumiPolicy.yaml")); err == nil {
				continue
			}
			walkPackages(path, inNodeModules || filepath.Base(abs) == "node_modules", visited, visit)
		case inNodeModules && e.Name() == "package.json":
			raw, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			var pkg packageJSON
			if json.Unmarshal(raw, &pkg) == nil {
				visit(pkg)
			}
		}
	}
}

// pluginDependency turns a package's `pulumi` section into the engine's package dependency:
// the plugin's name (`pulumi.name`, or the package name without its @pulumi/ scope; other
// scopes must name their plugin), its version (`pulumi.version`, or the package's, with a
// leading v), its download server and parameterization.
func pluginDependency(pkg packageJSON) (*pulumirpc.PackageDependency, bool) {
	if !pkg.Pulumi.Resource {
		return nil, false
	}
	name := pkg.Pulumi.Name
	if name == "" {
		rest, scoped := strings.CutPrefix(pkg.Name, "@pulumi/")
		if !scoped || rest == "" {
			return nil, false
		}
		name = rest
	}
	v := pkg.Pulumi.Version
	if v == "" {
		v = pkg.Version
	}
	if v == "" {
		return nil, false
	}
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	dep := &pulumirpc.PackageDependency{
		Name: name, Kind: "resource", Version: v, Server: pkg.Pulumi.Server,
	}
	if p := pkg.Pulumi.Parameterization; p != nil {
		dep.Parameterization = &pulumirpc.PackageParameterization{
			Name: p.Name, Version: p.Version, Value: p.Value,
		}
	}
	return dep, true
}
