package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/idpconform/idpconform/loadtest"
)

// The manifests under deploy/k8s are only useful if the shard count agrees
// everywhere and every argument is one idpconform accepts.

type k8sJob struct {
	Kind string `yaml:"kind"`
	Spec struct {
		CompletionMode string `yaml:"completionMode"`
		Completions    int    `yaml:"completions"`
		Parallelism    int    `yaml:"parallelism"`
		BackoffLimit   *int   `yaml:"backoffLimit"`
		Template       struct {
			Spec struct {
				Containers []struct {
					Args []string `yaml:"args"`
					Env  []struct {
						Name  string `yaml:"name"`
						Value string `yaml:"value"`
					} `yaml:"env"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

func readJob(t *testing.T, path string) k8sJob {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseJob(t, path, b)
}

func parseJob(t *testing.T, name string, b []byte) k8sJob {
	t.Helper()
	var j k8sJob
	if err := yaml.Unmarshal(b, &j); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if j.Kind != "Job" || len(j.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("%s: not a one-container Job", name)
	}
	return j
}

// expand substitutes $(VAR) as Kubernetes does, from the container's env
// and extra (JOB_COMPLETION_INDEX, which Kubernetes sets).
func expand(t *testing.T, j k8sJob, extra map[string]string) []string {
	t.Helper()
	c := j.Spec.Template.Spec.Containers[0]
	vars := map[string]string{}
	for _, e := range c.Env {
		vars[e.Name] = e.Value
	}
	for k, v := range extra {
		vars[k] = v
	}
	re := regexp.MustCompile(`\$\(([A-Z_]+)\)`)
	out := make([]string, len(c.Args))
	for i, a := range c.Args {
		out[i] = re.ReplaceAllStringFunc(a, func(m string) string {
			v, ok := vars[m[2:len(m)-1]]
			if !ok {
				t.Errorf("argument %q uses %s, which the pod does not define", a, m)
			}
			return v
		})
	}
	return out
}

// checkShardJob lists what is wrong with a shard Job.
func checkShardJob(t *testing.T, j k8sJob) []string {
	var probs []string
	n := j.Spec.Completions
	if j.Spec.CompletionMode != "Indexed" || n < 2 || j.Spec.Parallelism != n {
		return append(probs, fmt.Sprintf("mode %q completions %d parallelism %d", j.Spec.CompletionMode, n, j.Spec.Parallelism))
	}
	if j.Spec.BackoffLimit == nil || *j.Spec.BackoffLimit != 0 {
		probs = append(probs, "a failed shard must not be retried (backoffLimit: 0)")
	}
	args := j.Spec.Template.Spec.Containers[0].Args
	if !contains(args, "--shard=$(JOB_COMPLETION_INDEX)/"+strconv.Itoa(n)) {
		probs = append(probs, fmt.Sprintf("args do not shard by JOB_COMPLETION_INDEX over %d: %v", n, args))
	}
	for i := range n {
		a := expand(t, j, map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(i)})
		if a[0] != "load" {
			return append(probs, fmt.Sprintf("not a load command: %v", a))
		}
		cmd := newLoadCmd()
		if err := cmd.ParseFlags(a[1:]); err != nil {
			return append(probs, fmt.Sprintf("shard %d: idpconform refuses %v: %v", i, a, err))
		}
		f := cmd.Flags()
		shard, _ := f.GetString("shard")
		s, err := loadtest.ParseShard(shard)
		if err != nil || s.Index != i || s.Count != n {
			probs = append(probs, fmt.Sprintf("shard %d: --shard %q: %+v %v", i, shard, s, err))
			continue
		}
		var fl loadFlags
		fl.rate, _ = f.GetString("rate")
		fl.duration, _ = f.GetDuration("duration")
		fl.maxHits, _ = f.GetUint64("max-hits")
		fl.maxProbes, fl.precision = loadtest.DefaultMaxProbes, loadtest.DefaultPrecision
		plan, err := loadPlan(fl)
		if err == nil {
			err = plan.Split(s).Validate()
		}
		if err != nil {
			probs = append(probs, fmt.Sprintf("shard %d plan: %v", i, err))
		}
		if ro, _ := f.GetBool("report-only"); !ro {
			probs = append(probs, "shards must leave gating to the merge (--report-only)")
		}
	}
	return probs
}

func TestK8sShardJob(t *testing.T) {
	b, err := os.ReadFile("../../deploy/k8s/job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if probs := checkShardJob(t, parseJob(t, "job.yaml", b)); len(probs) > 0 {
		t.Errorf("deploy/k8s/job.yaml:\n%s", strings.Join(probs, "\n"))
	}
	// The check catches the mistakes it exists for.
	src := string(b)
	for name, bad := range map[string]string{
		"parallelism changed alone": strings.Replace(src, "parallelism: 4", "parallelism: 3", 1),
		"shard count changed alone": strings.Replace(src, "JOB_COMPLETION_INDEX)/4", "JOB_COMPLETION_INDEX)/3", 1),
		"retries allowed":           strings.Replace(src, "backoffLimit: 0", "backoffLimit: 6", 1),
		"gating shards":             strings.Replace(src, "            - --report-only\n", "", 1),
		"a rate idpconform refuses": strings.Replace(src, `value: "2000/s"`, `value: "fast"`, 1),
	} {
		if bad == src {
			t.Fatalf("%s: the mutation did not apply", name)
		}
		if probs := checkShardJob(t, parseJob(t, name, []byte(bad))); len(probs) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
}

func TestK8sMergeJob(t *testing.T) {
	j := readJob(t, "../../deploy/k8s/merge-job.yaml")
	shards := readJob(t, "../../deploy/k8s/job.yaml")
	a := expand(t, j, nil)
	if len(a) < 2 || a[0] != "load" || a[1] != "merge" {
		t.Fatalf("not a merge: %v", a)
	}
	cmd := newLoadMergeCmd()
	if err := cmd.ParseFlags(a[2:]); err != nil {
		t.Fatalf("idpconform refuses %v: %v", a, err)
	}
	// The merge reads the directory the shards write.
	shardArgs := expand(t, shards, map[string]string{"JOB_COMPLETION_INDEX": "0"})
	var shardOut string
	for _, s := range shardArgs {
		if v, ok := strings.CutPrefix(s, "--out="); ok {
			shardOut = v
		}
	}
	if cmd.Flags().NArg() != 1 || cmd.Flags().Arg(0) != shardOut {
		t.Errorf("merge reads %v, shards write %q", cmd.Flags().Args(), shardOut)
	}
}

// The image the manifests run is built by deploy/Dockerfile: its user must
// be the one the Job's securityContext requires, its entrypoint the binary
// the manifests pass bare arguments to, and what it builds this command.
func TestDockerfileFitsTheManifests(t *testing.T) {
	src, err := os.ReadFile("../../deploy/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	job, err := os.ReadFile("../../deploy/k8s/job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if problems := dockerfileProblems(string(src), string(job)); len(problems) > 0 {
		t.Errorf("deploy/Dockerfile: %v", problems)
	}
	// The twin: an image running as root, or building another package, is caught.
	bad := strings.NewReplacer("USER 65532:65532", "USER 0", "./cmd/idpconform", "./cmd/other").Replace(string(src))
	if problems := dockerfileProblems(bad, string(job)); len(problems) != 2 {
		t.Errorf("a root image building another package: %v, want two problems", problems)
	}
}

func dockerfileProblems(dockerfile, job string) []string {
	var out []string
	uid := regexp.MustCompile(`runAsUser: (\d+)`).FindStringSubmatch(job)
	if uid == nil || !strings.Contains(dockerfile, "\nUSER "+uid[1]+":") {
		out = append(out, "USER is not the Job's runAsUser")
	}
	if !strings.Contains(dockerfile, `ENTRYPOINT ["/idpconform"]`) {
		out = append(out, "ENTRYPOINT is not /idpconform")
	}
	build := regexp.MustCompile(`go build .* -o /idpconform (\./\S+)`).FindStringSubmatch(dockerfile)
	if build == nil {
		out = append(out, "no go build of /idpconform")
	} else if _, err := os.Stat("../../" + build[1]); err != nil || build[1] != "./cmd/idpconform" {
		out = append(out, "builds "+build[1]+", not ./cmd/idpconform")
	}
	return out
}
