package dashboard_test

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// selector is one vector selector of a PromQL expression: the metric it names and
// the label names its matchers use.
type selector struct {
	metric string
	labels []string
}

// promqlWords are the identifiers that are not metric names wherever they stand:
// aggregation operators, keywords and the float literals Inf and NaN.
var promqlWords = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true, "limitk": true,
	"limit_ratio": true, "and": true, "or": true, "unless": true, "atan2": true, "bool": true,
	"offset": true, "inf": true, "nan": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// labelListWords open a parenthesised list of label names.
var labelListWords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}

// selectors lists the vector selectors of a PromQL expression, in order. It is a
// lexer, not a parser (the syntax itself is promtool's to check): an identifier is a
// metric name unless it is a keyword, a function or aggregation (followed by "("),
// a label inside braces or a label list (by, on, …), or in a range. Selectors with
// no metric name take it from an equality matcher on __name__; one that names it by
// regex cannot be checked and is an error, as is unbalanced nesting.
func selectors(expr string) ([]selector, error) {
	var (
		out       []selector
		parens    []bool // each open "(": whether it holds label names
		braces    int
		brackets  int
		listNext  bool // the last token opens a label list if "(" follows
		afterName bool // the last token was a metric name: "{" belongs to it
		nameEq    bool // inside braces, the next string is __name__'s value
	)
	s := expr
	for i := 0; i < len(s); {
		c := s[i]
		wasList, wasName := listNext, afterName
		listNext, afterName = false, false
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			listNext, afterName = wasList, wasName
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			if nameEq {
				v, err := strconv.Unquote(`"` + s[i+1:j] + `"`)
				if err != nil {
					return nil, fmt.Errorf("__name__ value at %d: %w", i, err)
				}
				out[len(out)-1].metric = v
				nameEq = false
			}
			i = j + 1
		case c == '{':
			if braces > 0 {
				return nil, fmt.Errorf("nested braces at %d", i)
			}
			if !wasName {
				out = append(out, selector{})
			}
			braces++
			i++
		case c == '}':
			braces--
			if braces < 0 {
				return nil, fmt.Errorf("unbalanced } at %d", i)
			}
			if out[len(out)-1].metric == "" {
				return nil, fmt.Errorf("selector ending at %d names no metric", i)
			}
			i++
		case c == '[':
			brackets++
			i++
		case c == ']':
			brackets--
			i++
		case c == '(':
			parens = append(parens, wasList)
			i++
		case c == ')':
			if len(parens) == 0 {
				return nil, fmt.Errorf("unbalanced ) at %d", i)
			}
			parens = parens[:len(parens)-1]
			i++
		case isIdentStart(c):
			j := i
			for j < len(s) && (isIdentStart(s[j]) || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			word := s[i:j]
			next := strings.TrimLeft(s[j:], " \t\r\n")
			switch {
			case braces > 0:
				sel := &out[len(out)-1]
				sel.labels = append(sel.labels, word)
				if word == "__name__" {
					if !strings.HasPrefix(next, "=") || strings.HasPrefix(next, "=~") {
						return nil, fmt.Errorf("__name__ matched other than by equality at %d", i)
					}
					nameEq = true
				}
			case brackets > 0, len(parens) > 0 && parens[len(parens)-1]:
			case promqlWords[strings.ToLower(word)]:
				listNext = labelListWords[word]
			case strings.HasPrefix(next, "("):
				// A function.
			default:
				out = append(out, selector{metric: word})
				afterName = true
			}
			i = j
		case c >= '0' && c <= '9' || c == '.':
			for i < len(s) && (isIdentStart(s[i]) || s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
				i++
			}
		default:
			i++
		}
	}
	if len(parens) != 0 || braces != 0 || brackets != 0 {
		return nil, fmt.Errorf("unbalanced nesting")
	}
	return out, nil
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':'
}

func TestSelectors(t *testing.T) {
	for _, tt := range []struct {
		expr string
		want []selector
		err  bool
	}{
		{expr: `sum by (instance, reason) (rate(a_total{reason="x", instance=~".*"}[1m]))`,
			want: []selector{{"a_total", []string{"reason", "instance"}}}},
		{expr: `rate(a[5m]) and on (job, instance) b{x="}"}`, want: []selector{{"a", nil}, {"b", []string{"x"}}}},
		{expr: `a * on (x) group_left (y) b`, want: []selector{{"a", nil}, {"b", nil}}},
		{expr: `a * on (x) group_left b`, want: []selector{{"a", nil}, {"b", nil}}},
		{expr: `{__name__="a", x!="1"}`, want: []selector{{"a", []string{"__name__", "x"}}}},
		{expr: `count(a) > bool 0 or vector(Inf) or -NaN`, want: []selector{{"a", nil}}},
		{expr: "5 * group by (x) (increase(a[6h]) > 0 or (a unless a offset 6h))\n# b here is a comment",
			want: []selector{{"a", nil}, {"a", nil}, {"a", nil}}},
		{expr: `histogram_quantile(0.9, sum without (le) (rate(h_bucket[5m] @ end())))`, want: []selector{{"h_bucket", nil}}},
		{expr: `label_replace(a:rate5m, "b", "$1", "c", "(.*)")`, want: []selector{{"a:rate5m", nil}}},
		{expr: `{__name__=~"a.*"}`, err: true},
		{expr: `{x="1"}`, err: true},
		{expr: `sum(rate(a[1m])`, err: true},
	} {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := selectors(tt.expr)
			if (err != nil) != tt.err {
				t.Fatalf("err %v, want error %v", err, tt.err)
			}
			if !tt.err && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
