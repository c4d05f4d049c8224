// Command apigen generates sailcdn's Lightsail wire layer (internal/lightsail/zz_*.go) from the official
// API model, so that member names, required members, enums, patterns, lengths and ranges are the model's
// own and never hand-copied.
//
// Two sources, both fetched through the Go module proxy:
//   - the JSON model api-2.json shipped in github.com/aws/aws-sdk-go (v1.55.8): shapes, required members,
//     enums, patterns, min/max;
//   - aws-sdk-go-v2 service/lightsail (v1.71.1), whose generated schemas.go, enums.go and validators.go
//     carry the 2024–2026 additions (certificateName, responseTimeout, ipAddressType on origins, WAF,
//     customErrorResponses, …) that the v1 JSON model predates. They add members, shapes and enum values;
//     they never remove what the JSON model says, and they carry no pattern/length traits.
//
// Run with `go generate ./internal/lightsail` (see gen.go there). The output is committed.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

const (
	modelModule   = "github.com/aws/aws-sdk-go@v1.55.8"
	modelPath     = "models/apis/lightsail/2016-11-28/api-2.json"
	overlayModule = "github.com/aws/aws-sdk-go-v2/service/lightsail@v1.71.1"
	// The SDK's endpoints data: which Regions have a Lightsail endpoint (overlayModule's
	// internal/endpoints/endpoints.go) and what each Region is called (coreModule's partitions.json).
	endpointsPath  = "internal/endpoints/endpoints.go"
	coreModule     = "github.com/aws/aws-sdk-go-v2@v1.48.0"
	partitionsPath = "internal/endpoints/awsrulesfn/partitions.json"
)

// operations is the set of Lightsail operations sailcdn serves. Every other operation of the model is
// still known (it answers 501 naming itself) but gets no types.
var operations = []string{
	"AttachCertificateToDistribution",
	"CreateCertificate",
	"CreateDistribution",
	"DeleteCertificate",
	"DeleteDistribution",
	"DetachCertificateFromDistribution",
	"GetCertificates",
	"GetCostEstimate",
	"GetDistributionBundles",
	"GetDistributionLatestCacheReset",
	"GetDistributionMetricData",
	"GetDistributions",
	"GetOperation",
	"GetOperations",
	"GetOperationsForResource",
	"GetRegions",
	"ResetDistributionCache",
	"SetIpAddressType",
	"TagResource",
	"UntagResource",
	"UpdateDistribution",
	"UpdateDistributionBundle",
}

// extraEnumValues are values the real service accepts and returns although the model's enum lacks them.
// forwardedHeaders.option "default": Terraform sends it, asserts it is read back, and its acceptance tests
// pass against AWS (reference §5.5).
var extraEnumValues = map[string][]string{
	"HeaderObject.option": {"default"},
}

type shape struct {
	Type     string            `json:"type"`
	Members  map[string]member `json:"members"`
	Required []string          `json:"required"`
	Enum     []string          `json:"enum"`
	Pattern  string            `json:"pattern"`
	Min      *float64          `json:"min"`
	Max      *float64          `json:"max"`
	Member   *member           `json:"member"` // list
	Key      *member           `json:"key"`    // map
	Value    *member           `json:"value"`  // map
	Error    *struct {
		HTTPStatusCode int `json:"httpStatusCode"`
	} `json:"error"`
	Exception bool `json:"exception"`
}

type member struct {
	Shape string `json:"shape"`
}

type operation struct {
	Name   string  `json:"name"`
	Input  *member `json:"input"`
	Output *member `json:"output"`
}

type model struct {
	Metadata   map[string]any       `json:"metadata"`
	Operations map[string]operation `json:"operations"`
	Shapes     map[string]*shape    `json:"shapes"`
}

func main() {
	out := flag.String("out", ".", "directory to write zz_*.go into")
	flag.Parse()
	files, err := generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "apigen:", err)
		os.Exit(1)
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(*out, name), src, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "apigen:", err)
			os.Exit(1)
		}
	}
}

// moduleDir downloads (or finds in the module cache) one module version and returns its directory.
func moduleDir(modVersion string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", modVersion)
	cmd.Stderr = os.Stderr
	raw, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w", modVersion, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(raw, &info); err != nil {
		return "", err
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %s", modVersion, info.Error)
	}
	return info.Dir, nil
}

// generate returns the generated files by name.
func generate() (map[string][]byte, error) {
	v1, err := moduleDir(modelModule)
	if err != nil {
		return nil, err
	}
	v2, err := moduleDir(overlayModule)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(v1, modelPath))
	if err != nil {
		return nil, err
	}
	var m model
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", modelPath, err)
	}
	if err := overlay(&m, v2); err != nil {
		return nil, fmt.Errorf("overlay from %s: %w", overlayModule, err)
	}
	regions, err := serviceRegions(v2)
	if err != nil {
		return nil, err
	}
	g := &gen{m: &m, used: map[string]bool{}, input: map[string]bool{}, regions: regions}
	for _, op := range operations {
		o, ok := m.Operations[op]
		if !ok || o.Input == nil || o.Output == nil {
			return nil, fmt.Errorf("operation %s not in the model with input and output", op)
		}
		g.walk(g.used, o.Input.Shape)
		g.walk(g.input, o.Input.Shape)
		g.walk(g.used, o.Output.Shape)
	}
	files := map[string][]byte{}
	for name, fn := range map[string]func() (string, error){
		"zz_types.go":     g.types,
		"zz_enums.go":     g.enums,
		"zz_validate.go":  g.validate,
		"zz_api.go":       g.api,
		"zz_json.go":      g.codec,
		"zz_json_test.go": g.codecTestList,
		"zz_regions.go":   g.regionsFile,
	} {
		src, err := fn()
		if err != nil {
			return nil, err
		}
		formatted, err := format.Source([]byte(src))
		if err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", name, err, src)
		}
		files[name] = formatted
	}
	return files, nil
}

var (
	reNewSchema = regexp.MustCompile(`(?s)var (\w+) = smithy\.NewSchema\(smithy\.ShapeID\{\s*Namespace:\s*"[^"]*",\s*Name:\s*"([^"]+)",\s*\}, smithy\.ShapeType(\w+)`)
	reAddMember = regexp.MustCompile(`(?m)^\s*\w+ = (\w+)\.AddMember\("([^"]+)", ([\w.]+)`)
	reEnumValue = regexp.MustCompile(`(?m)^\s*\w+\s+(\w+)\s+=\s+"([^"]*)"\s*$`)
	reValidator = regexp.MustCompile(`(?s)func validate(\w+)\(v \*types\.(\w+)\) error \{(.*?)\n\}`)
	reRequired  = regexp.MustCompile(`NewErrParamRequired\("(\w+)"\)`)
)

// overlay merges aws-sdk-go-v2's newer model into m: new shapes, new members, new enum values, and the
// required members of new shapes.
func overlay(m *model, dir string) error {
	schemasSrc, err := os.ReadFile(filepath.Join(dir, "schemas", "schemas.go"))
	if err != nil {
		return err
	}
	enumsSrc, err := os.ReadFile(filepath.Join(dir, "types", "enums.go"))
	if err != nil {
		return err
	}
	validatorsSrc, err := os.ReadFile(filepath.Join(dir, "validators.go"))
	if err != nil {
		return err
	}
	varShape := map[string]string{} // Go variable → shape name
	shapeType := map[string]string{}
	for _, sm := range reNewSchema.FindAllStringSubmatch(string(schemasSrc), -1) {
		varShape[sm[1]] = sm[2]
		shapeType[sm[2]] = sm[3]
	}
	prelude := map[string]string{"smithyprelude.String": "string", "smithyprelude.Boolean": "boolean",
		"smithyprelude.Integer": "integer", "smithyprelude.Long": "long", "smithyprelude.Double": "double"}
	kind := map[string]string{"Structure": "structure", "List": "list", "Map": "map", "String": "string",
		"Enum": "string", "Integer": "integer", "Long": "long", "Boolean": "boolean", "Double": "double",
		"Float": "float", "Timestamp": "timestamp"}
	for _, am := range reAddMember.FindAllStringSubmatch(string(schemasSrc), -1) {
		owner, name, targetVar := varShape[am[1]], am[2], am[3]
		if owner == "" {
			continue
		}
		target := varShape[targetVar]
		if target == "" {
			target = prelude[targetVar]
		}
		if target == "" { // enum members target smithyprelude.Unit
			continue
		}
		typ := kind[shapeType[owner]]
		if typ == "" || typ == "string" {
			continue
		}
		s := m.Shapes[owner]
		if s == nil {
			s = &shape{Type: typ, Members: map[string]member{}}
			m.Shapes[owner] = s
		}
		if _, ok := m.Shapes[target]; !ok {
			tk := kind[shapeType[target]]
			if tk == "" {
				return fmt.Errorf("shape %s: unknown kind %q", target, shapeType[target])
			}
			m.Shapes[target] = &shape{Type: tk, Members: map[string]member{}}
		}
		switch typ {
		case "structure":
			if _, ok := s.Members[name]; !ok {
				s.Members[name] = member{Shape: target}
			}
		case "list":
			if s.Member == nil {
				s.Member = &member{Shape: target}
			}
		case "map":
			if name == "key" && s.Key == nil {
				s.Key = &member{Shape: target}
			}
			if name == "value" && s.Value == nil {
				s.Value = &member{Shape: target}
			}
		}
	}
	// Enum values: enums.go declares `Name<Value> Type = "wire"` lines.
	for _, em := range reEnumValue.FindAllStringSubmatch(string(enumsSrc), -1) {
		s := m.Shapes[em[1]]
		if s == nil || s.Type != "string" {
			continue
		}
		if !contains(s.Enum, em[2]) {
			s.Enum = append(s.Enum, em[2])
		}
	}
	// Required members of shapes the JSON model lacks entirely (validators.go names the Go field).
	for _, vm := range reValidator.FindAllStringSubmatch(string(validatorsSrc), -1) {
		s := m.Shapes[vm[2]]
		if s == nil || len(s.Required) > 0 {
			continue
		}
		for _, rm := range reRequired.FindAllStringSubmatch(vm[3], -1) {
			for name := range s.Members {
				if strings.EqualFold(name, rm[1]) && !contains(s.Required, name) {
					s.Required = append(s.Required, name)
				}
			}
		}
		sort.Strings(s.Required)
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

type gen struct {
	regions [][2]string // name, description
	m       *model
	used    map[string]bool // shapes reachable from the served operations
	input   map[string]bool // shapes reachable from their requests: the ones that need validation
}

func (g *gen) walk(set map[string]bool, name string) {
	if set[name] {
		return
	}
	s := g.m.Shapes[name]
	if s == nil {
		panic("unknown shape " + name)
	}
	set[name] = true
	for _, mem := range s.Members {
		g.walk(set, mem.Shape)
	}
	for _, mem := range []*member{s.Member, s.Key, s.Value} {
		if mem != nil {
			g.walk(set, mem.Shape)
		}
	}
}

func (g *gen) sortedUsed(pred func(*shape) bool) []string {
	var names []string
	for n := range g.used {
		if pred(g.m.Shapes[n]) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func exported(name string) string {
	if name == "" {
		return name
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

// goType is the Go type of a member that targets shape name. Scalars are pointers so that "absent" and
// "zero" stay distinct (UpdateDistribution leaves omitted members unchanged; isEnabled:false must encode).
func (g *gen) goType(name string) string {
	s := g.m.Shapes[name]
	switch s.Type {
	case "structure":
		return "*" + name
	case "list":
		return "[]" + strings.TrimPrefix(g.goType(s.Member.Shape), "*")
	case "map":
		return "map[string]" + strings.TrimPrefix(g.goType(s.Value.Shape), "*")
	case "string":
		return "*string"
	case "boolean":
		return "*bool"
	case "integer", "long":
		return "*int64"
	case "double", "float":
		return "*Double"
	case "timestamp":
		return "*Timestamp"
	case "blob":
		return "[]byte"
	}
	panic("unsupported shape type " + s.Type + " for " + name)
}

const header = "// Code generated by internal/tools/apigen from the Lightsail API model; DO NOT EDIT.\n\npackage lightsail\n\n"

func (g *gen) types() (string, error) {
	var b strings.Builder
	b.WriteString(header)
	for _, name := range g.sortedUsed(func(s *shape) bool { return s.Type == "structure" }) {
		s := g.m.Shapes[name]
		fmt.Fprintf(&b, "// %s is the model shape of the same name.\ntype %s struct {\n", name, name)
		for _, mn := range sortedKeys(s.Members) {
			typ := g.goType(s.Members[mn].Shape)
			// omitzero keeps an explicitly empty list ("alternativeDomainNames": []) on the wire, as
			// the real service sends it, while a nil one is left out.
			fmt.Fprintf(&b, "\t%s %s `json:\"%s,omitzero\"`\n", exported(mn), typ, mn)
		}
		b.WriteString("}\n\n")
	}
	return b.String(), nil
}

func (g *gen) enums() (string, error) {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("// Enum values, as the model lists them (plus the values the real service is known to accept).\n")
	for _, name := range g.sortedUsed(func(s *shape) bool { return len(s.Enum) > 0 }) {
		fmt.Fprintf(&b, "var %sValues = %#v\n\n", name, g.m.Shapes[name].Enum)
	}
	return b.String(), nil
}

func (g *gen) validate() (string, error) {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("import \"regexp\"\n\n")
	patterns := map[string]string{}
	for _, name := range g.sortedUsed(func(s *shape) bool { return s.Pattern != "" }) {
		if !g.input[name] {
			continue
		}
		v := "pattern" + name
		patterns[name] = v
		fmt.Fprintf(&b, "var %s = regexp.MustCompile(%q)\n", v, g.m.Shapes[name].Pattern)
	}
	b.WriteString("\n")
	for _, name := range g.sortedUsed(func(s *shape) bool { return s.Type == "structure" }) {
		if !g.input[name] {
			continue
		}
		s := g.m.Shapes[name]
		fmt.Fprintf(&b, "func (v *%s) validate(p *problems, path string) {\n\tif v == nil {\n\t\treturn\n\t}\n", name)
		for _, mn := range sortedKeys(s.Members) {
			field := "v." + exported(mn)
			path := fmt.Sprintf("p.at(path, %q)", mn)
			target := g.m.Shapes[s.Members[mn].Shape]
			if contains(s.Required, mn) {
				fmt.Fprintf(&b, "\tif %s == nil {\n\t\tp.missing(%s)\n\t}\n", field, path)
			}
			g.memberChecks(&b, field, path, name+"."+mn, s.Members[mn].Shape, target, patterns, true)
		}
		b.WriteString("}\n\n")
	}
	for _, op := range operations {
		o := g.m.Operations[op]
		if o.Input == nil {
			continue
		}
		fmt.Fprintf(&b, "// Validate checks a %s request against the model's constraints.\nfunc (v *%s) Validate() error {\n\tvar p problems\n\tv.validate(&p, \"\")\n\treturn p.err()\n}\n\n", op, o.Input.Shape)
	}
	return b.String(), nil
}

// memberChecks writes the checks for one value of shape sname held in expr (a pointer for scalars when
// ptr is true, an element value inside lists otherwise).
func (g *gen) memberChecks(b *strings.Builder, expr, path, memberKey, sname string, s *shape, patterns map[string]string, ptr bool) {
	deref := expr
	if ptr {
		deref = "*" + expr
	}
	open := func() {
		if ptr {
			fmt.Fprintf(b, "\tif %s != nil {\n", expr)
		} else {
			b.WriteString("\t{\n")
		}
	}
	switch s.Type {
	case "structure":
		if ptr {
			fmt.Fprintf(b, "\t%s.validate(p, %s)\n", expr, path)
		} else {
			fmt.Fprintf(b, "\t(&%s).validate(p, %s)\n", expr, path)
		}
	case "string":
		if len(s.Enum) == 0 && s.Pattern == "" && s.Min == nil && s.Max == nil {
			return
		}
		open()
		if len(s.Enum) > 0 {
			allowed := append(append([]string{}, s.Enum...), extraEnumValues[memberKey]...)
			fmt.Fprintf(b, "\t\tp.enum(%s, %s, %#v)\n", path, deref, allowed)
		}
		if s.Pattern != "" {
			fmt.Fprintf(b, "\t\tp.pattern(%s, %s, %s)\n", path, deref, patterns[sname])
		}
		if s.Min != nil || s.Max != nil {
			fmt.Fprintf(b, "\t\tp.length(%s, %s, %s, %s)\n", path, deref, bound(s.Min, "-1"), bound(s.Max, "-1"))
		}
		b.WriteString("\t}\n")
	case "integer", "long", "double", "float":
		if s.Min == nil && s.Max == nil {
			return
		}
		open()
		conv := "float64(" + deref + ")"
		fmt.Fprintf(b, "\t\tp.rangeCheck(%s, %s, %s, %s)\n", path, conv, bound(s.Min, "nil"), bound(s.Max, "nil"))
		b.WriteString("\t}\n")
	case "list":
		if s.Min != nil || s.Max != nil {
			fmt.Fprintf(b, "\tif %s != nil {\n\t\tp.count(%s, len(%s), %s, %s)\n\t}\n", expr, path, expr, bound(s.Min, "-1"), bound(s.Max, "-1"))
		}
		elem := g.m.Shapes[s.Member.Shape]
		var inner strings.Builder
		g.memberChecks(&inner, "elem", "p.index("+path+", i)", memberKey+"[]", s.Member.Shape, elem, patterns, false)
		if inner.Len() > 0 {
			fmt.Fprintf(b, "\tfor i, elem := range %s {\n%s\t}\n", expr, inner.String())
		}
	}
}

func bound(v *float64, none string) string {
	if v == nil {
		return none
	}
	if strings.HasPrefix(none, "-") { // an int bound
		return fmt.Sprintf("%d", int64(*v))
	}
	return fmt.Sprintf("ptrFloat(%v)", *v)
}

func (g *gen) api() (string, error) {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("import (\n\t\"context\"\n\n\t\"github.com/sailcdn/sailcdn/internal/awsjson\"\n)\n\n")
	fmt.Fprintf(&b, "// TargetPrefix is the X-Amz-Target prefix of every Lightsail operation.\nconst TargetPrefix = %q\n\n", g.m.Metadata["targetPrefix"])
	b.WriteString("// API is the set of Lightsail operations sailcdn serves, one method per operation, named as AWS names them.\ntype API interface {\n")
	for _, op := range operations {
		o := g.m.Operations[op]
		fmt.Fprintf(&b, "\t%s(ctx context.Context, in *%s) (*%s, error)\n", op, o.Input.Shape, o.Output.Shape)
	}
	b.WriteString("}\n\n")
	b.WriteString("// Handlers binds every served operation to api: decode the body, validate it against the model, call.\nfunc Handlers(api API) map[string]awsjson.Handler {\n\treturn map[string]awsjson.Handler{\n")
	for _, op := range operations {
		o := g.m.Operations[op]
		fmt.Fprintf(&b, "\t\t%q: func(ctx context.Context, decode func(any) error) (any, error) {\n\t\t\tin := new(%s)\n\t\t\tif err := decode(in); err != nil {\n\t\t\t\treturn nil, err\n\t\t\t}\n\t\t\tif err := in.Validate(); err != nil {\n\t\t\t\treturn nil, err\n\t\t\t}\n\t\t\treturn api.%s(ctx, in)\n\t\t},\n", op, o.Input.Shape, op)
	}
	b.WriteString("\t}\n}\n\n")
	all := sortedKeys(g.m.Operations)
	fmt.Fprintf(&b, "// AllOperations lists every operation of the Lightsail model, served or not: an unserved one answers\n// 501 naming itself rather than UnknownOperationException.\nvar AllOperations = %#v\n", all)
	return b.String(), nil
}

// valueKind is how one value of shape name is read and written: a structure or one of the scalars.
func (g *gen) valueKind(name string) string {
	switch t := g.m.Shapes[name].Type; t {
	case "structure", "string", "boolean", "timestamp", "list":
		return t
	case "integer", "long":
		return "integer"
	case "double", "float":
		return "double"
	}
	panic("unsupported shape type " + g.m.Shapes[name].Type + " for " + name)
}

// scalarReaders name the hand-written readers (internal/lightsail/json.go) of a member (pointer) and
// of a list element (value), per value kind.
var (
	memberReaders = map[string]string{"string": "readString", "boolean": "readBool", "integer": "readInt",
		"double": "readDouble", "timestamp": "readTimestamp"}
	elemReaders = map[string]string{"string": "readStringElem", "boolean": "readBoolElem", "integer": "readIntElem",
		"double": "readDoubleElem", "timestamp": "readTimestampElem"}
)

// codec generates ReadJSON and AppendJSON for every structure: exact-case member matching (AWS JSON
// member names are case-sensitive) and encoding/json's output, byte for byte, without reflection.
func (g *gen) codec() (string, error) {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("import \"github.com/sailcdn/sailcdn/internal/awsjson\"\n\n")
	for _, name := range g.sortedUsed(func(s *shape) bool { return s.Type == "structure" }) {
		s := g.m.Shapes[name]
		members := sortedKeys(s.Members)

		b.WriteString("// ReadJSON reads v from d. Member names match exactly; an unknown member, also a known one in\n// other letter case, is skipped.\n")
		fmt.Fprintf(&b, "func (v *%s) ReadJSON(d *awsjson.Decoder) error {\n", name)
		if len(members) == 0 {
			b.WriteString("\treturn d.Object(func([]byte) error { return d.Skip() })\n}\n\n")
		} else {
			b.WriteString("\treturn d.Object(func(name []byte) error {\n\t\tswitch string(name) {\n")
			for _, mn := range members {
				field := "v." + exported(mn)
				fmt.Fprintf(&b, "\t\tcase %q:\n\t\t\treturn awsjson.InMember(%q, %s)\n", mn, mn, g.readExpr(s.Members[mn].Shape, "&"+field))
			}
			b.WriteString("\t\t}\n\t\treturn d.Skip()\n\t})\n}\n\n")
		}

		b.WriteString("// AppendJSON appends v as JSON: what encoding/json.Marshal writes for it, byte for byte.\n")
		fmt.Fprintf(&b, "func (v *%s) AppendJSON(b []byte) []byte {\n\tif v == nil {\n\t\treturn append(b, \"null\"...)\n\t}\n\tb = append(b, '{')\n", name)
		if len(members) > 0 {
			b.WriteString("\tstart := len(b)\n")
		}
		for _, mn := range members {
			field := "v." + exported(mn)
			fmt.Fprintf(&b, "\tif %s != nil {\n\t\tif len(b) > start {\n\t\t\tb = append(b, ',')\n\t\t}\n\t\tb = append(b, `\"%s\":`...)\n", field, mn)
			sh := g.m.Shapes[s.Members[mn].Shape]
			if sh.Type == "list" {
				fmt.Fprintf(&b, "\t\tb = append(b, '[')\n\t\tfor i := range %s {\n\t\t\tif i > 0 {\n\t\t\t\tb = append(b, ',')\n\t\t\t}\n\t\t\t%s\n\t\t}\n\t\tb = append(b, ']')\n",
					field, g.appendStmt(sh.Member.Shape, field+"[i]", false))
			} else {
				fmt.Fprintf(&b, "\t\t%s\n", g.appendStmt(s.Members[mn].Shape, field, true))
			}
			b.WriteString("\t}\n")
		}
		b.WriteString("\treturn append(b, '}')\n}\n\n")
	}
	return b.String(), nil
}

// readExpr reads a member of shape sname into the field whose address is addr.
func (g *gen) readExpr(sname, addr string) string {
	switch k := g.valueKind(sname); k {
	case "structure":
		return fmt.Sprintf("readStruct(d, %s)", addr)
	case "list":
		elem := g.m.Shapes[sname].Member.Shape
		ek := g.valueKind(elem)
		switch ek {
		case "structure":
			return fmt.Sprintf("readList(d, %s, func(e *%s) error { return readStructElem(d, e) })", addr, elem)
		case "list":
			panic("lists of lists are not in the model")
		}
		return fmt.Sprintf("readList(d, %s, func(e *%s) error { return %s(d, e) })", addr, strings.TrimPrefix(g.goType(elem), "*"), elemReaders[ek])
	default:
		return fmt.Sprintf("%s(d, %s)", memberReaders[k], addr)
	}
}

// appendStmt appends the value expr of shape sname to b; ptr says whether expr is a pointer.
func (g *gen) appendStmt(sname, expr string, ptr bool) string {
	val := expr
	if ptr {
		val = "*" + expr
	}
	switch g.valueKind(sname) {
	case "structure":
		if ptr {
			return fmt.Sprintf("b = %s.AppendJSON(b)", expr)
		}
		return fmt.Sprintf("b = (&%s).AppendJSON(b)", expr)
	case "string":
		return fmt.Sprintf("b = awsjson.AppendString(b, %s)", val)
	case "boolean":
		return fmt.Sprintf("b = awsjson.AppendBool(b, %s)", val)
	case "integer":
		return fmt.Sprintf("b = awsjson.AppendInt(b, %s)", val)
	case "double", "timestamp":
		return fmt.Sprintf("b = %s.AppendJSON(b)", expr) // value methods, also on pointers
	}
	panic("cannot append " + sname)
}

// codecTestList lists one value of every structure, for the codec's tests (zz_json_test.go).
func (g *gen) codecTestList() (string, error) {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("import \"github.com/sailcdn/sailcdn/internal/awsjson\"\n\n")
	b.WriteString("// generatedStructures returns a new zero value of every generated structure.\nfunc generatedStructures() []interface {\n\tawsjson.Readable\n\tawsjson.Appendable\n} {\n\treturn []interface {\n\t\tawsjson.Readable\n\t\tawsjson.Appendable\n\t}{\n")
	for _, name := range g.sortedUsed(func(s *shape) bool { return s.Type == "structure" }) {
		fmt.Fprintf(&b, "\t\tnew(%s),\n", name)
	}
	b.WriteString("\t}\n}\n")
	return b.String(), nil
}

var (
	reAwsPartition = regexp.MustCompile(`(?s)\{\s*ID: "aws",(.*?)\n\t\{\s*ID: "aws-`)
	reEndpointKey  = regexp.MustCompile(`endpoints\.EndpointKey\{\s*Region: "([a-z0-9-]+)",\s*\}`)
)

// serviceRegions reads the Regions of the aws partition that have a Lightsail endpoint (plain region
// keys only: no FIPS or dual-stack variants) and gives each its description from the partition data.
func serviceRegions(v2 string) ([][2]string, error) {
	src, err := os.ReadFile(filepath.Join(v2, endpointsPath))
	if err != nil {
		return nil, err
	}
	block := reAwsPartition.FindSubmatch(src)
	if block == nil {
		return nil, fmt.Errorf("%s: no aws partition", endpointsPath)
	}
	core, err := moduleDir(coreModule)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(core, partitionsPath))
	if err != nil {
		return nil, err
	}
	var partitions struct {
		Partitions []struct {
			ID      string `json:"id"`
			Regions map[string]struct {
				Description string `json:"description"`
			} `json:"regions"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal(raw, &partitions); err != nil {
		return nil, fmt.Errorf("%s: %w", partitionsPath, err)
	}
	var out [][2]string
	for _, p := range partitions.Partitions {
		if p.ID != "aws" {
			continue
		}
		for _, m := range reEndpointKey.FindAllSubmatch(block[1], -1) {
			name := string(m[1])
			r, ok := p.Regions[name]
			if !ok {
				return nil, fmt.Errorf("region %s has a Lightsail endpoint but no description in %s", name, partitionsPath)
			}
			out = append(out, [2]string{name, r.Description})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no Lightsail regions found in %s", endpointsPath)
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out, nil
}

// regionsFile lists the Lightsail Regions of the endpoints data (zz_regions.go).
func (g *gen) regionsFile() (string, error) {
	var b strings.Builder
	b.WriteString(header)
	fmt.Fprintf(&b, "// ServiceRegions are the Regions of the aws partition in which the SDK's endpoints data has a Lightsail\n"+
		"// endpoint (%s %s), with each Region's description from the partition data\n// (%s %s).\n", overlayModule, endpointsPath, coreModule, partitionsPath)
	b.WriteString("var ServiceRegions = []struct{ Name, Description string }{\n")
	for _, r := range g.regions {
		fmt.Fprintf(&b, "\t{%q, %q},\n", r[0], r[1])
	}
	b.WriteString("}\n")
	return b.String(), nil
}
