// eksctl-validate checks an eksctl ClusterConfig offline, with eksctl's own code, as far as
// `eksctl create cluster -f` goes before its first AWS call:
//
//  1. the file against eksctl's JSON schema (the one `eksctl utils schema` prints);
//  2. eksctl's strict parse (unknown keys are errors) and the create-cluster loader's checks;
//  3. eksctl's defaulting and validation of the cluster and every node group
//     (Cmd.InitializeClusterConfig with Validate on), then the endpoint, private-cluster and
//     access-entry checks that `create cluster` runs next.
//
// Why not `eksctl create cluster --dry-run`: it asks AWS STS who the caller is before anything
// else, then EC2 for zones and AMIs, so it needs credentials and the network. This program stops
// where those calls begin.
//
// Built by infra/tools/build.sh in a wrapper module beside eksctl (same pinned version).
// Usage: eksctl-validate FILE... ; prints "ok FILE: CHECK" or "FAIL FILE: CHECK: reason" per
// check, and exits 1 when any check failed.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/xeipuuv/gojsonschema"
	"sigs.k8s.io/yaml"

	"github.com/weaveworks/eksctl/pkg/accessentry"
	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"
	"github.com/weaveworks/eksctl/pkg/ctl/cmdutils"
	"github.com/weaveworks/eksctl/pkg/ctl/cmdutils/filter"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: eksctl-validate FILE...")
		os.Exit(2)
	}
	failed := false
	for _, file := range os.Args[1:] {
		for _, check := range []struct {
			name string
			run  func(string) error
		}{
			{"schema", checkSchema},
			{"create-cluster validation", checkCreateCluster},
		} {
			if err := check.run(file); err != nil {
				failed = true
				fmt.Printf("FAIL %s: %s: %s\n", file, check.name, strings.ReplaceAll(err.Error(), "\n", "; "))
			} else {
				fmt.Printf("ok %s: %s\n", file, check.name)
			}
		}
	}
	if failed {
		os.Exit(1)
	}
}

func checkSchema(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	document, err := yaml.YAMLToJSON(data)
	if err != nil {
		return err
	}
	result, err := gojsonschema.Validate(gojsonschema.NewStringLoader(api.SchemaJSON), gojsonschema.NewBytesLoader(document))
	if err != nil {
		return err
	}
	if !result.Valid() {
		var problems []string
		for _, problem := range result.Errors() {
			problems = append(problems, problem.String())
		}
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

func checkCreateCluster(file string) error {
	cmd := &cmdutils.Cmd{
		CobraCommand:      &cobra.Command{Use: "cluster"},
		Validate:          true,
		ClusterConfigFile: file,
		ClusterConfig:     api.NewClusterConfig(),
	}
	params := &cmdutils.CreateClusterCmdParams{}
	if err := cmdutils.NewCreateClusterLoader(cmd, filter.NewNodeGroupFilter(), api.NewNodeGroup(), params).Load(); err != nil {
		return err
	}
	if err := cmd.InitializeClusterConfig(); err != nil {
		return err
	}
	cfg := cmd.ClusterConfig
	if err := cfg.ValidatePrivateCluster(); err != nil {
		return err
	}
	if err := cfg.ValidateClusterEndpointConfig(); err != nil {
		return err
	}
	return accessentry.ValidateAPIServerAccess(cfg)
}
