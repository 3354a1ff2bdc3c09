package validate

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
)

// WriteText writes the result for a reader: a table of the groups and the
// overall score, the worst points, the missing rows and the notes.
//
//	reference ref.csv: 7 rows; 6 runs
//
//	group         points  missing  median |ln(model/ref)|  within 25 %  concordance
//	fig10a × 1    7       1        0.223                   57 % (4/7)   83 % (5/6)
//	overall       7       1        0.223                   57 % (4/7)   83 % (5/6)
func (r *Result) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "reference %s: %d rows; %d runs\n\n", r.Reference, r.Rows, r.Runs)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "group\tpoints\tmissing\tmedian |ln(model/ref)|\twithin 25 %\tconcordance")
	line := func(name string, s Score, missing int) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", name, s.Points, missing, fmtNum(s.MedianAbsLogRatio, 3),
			share(s.WithinShare, s.Within, s.Points), share(s.Concordance, s.Concordant, s.Pairs))
	}
	for _, g := range r.Groups {
		line(g.Figure+" × "+g.Workload, g.Score, g.Missing)
	}
	line("overall", r.Overall, len(r.Missing))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Worst) > 0 {
		fmt.Fprintf(w, "\nworst %d points, by |ln(model/reference)|:\n", len(r.Worst))
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "line\tfigure\tworkload\tfunction\tsystem\tmetric\treference\tmodel\tmodel/ref\tln\trun")
		for _, p := range r.Worst {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Line, p.Figure, p.Workload, p.Function, p.System, p.Metric,
				fmtNum(p.Value, 4), fmtNum(p.Model, 4), fmtNum(p.Model/p.Value, 3), fmtNum(p.LogRatio, 3), p.Run)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Missing) > 0 {
		fmt.Fprintf(w, "\n%d reference rows without a model value (not scored):\n", len(r.Missing))
		for _, m := range r.Missing {
			fmt.Fprintf(w, "  %s:%d: %s %s %s %s %s: %s\n", r.Reference, m.Line, m.Figure, m.Workload, m.Function, m.System, m.Metric, m.Reason)
		}
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w, "\nnotes:")
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
	return nil
}

// fmtNum formats v with digits significant digits; "–" for NaN.
func fmtNum(v float64, digits int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'g', digits, 64)
}

// share formats a share as a percentage with its counts: "57 % (4/7)".
func share(v float64, k, n int) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.0f %% (%d/%d)", 100*v, k, n)
}

// jsonScore is Score in JSON: NaN as null.
type jsonScore struct {
	Points            int      `json:"points"`
	MedianAbsLogRatio *float64 `json:"median_abs_log_ratio"`
	Within            int      `json:"within_25pct"`
	WithinShare       *float64 `json:"within_25pct_share"`
	Pairs             int      `json:"pairs"`
	Concordant        int      `json:"concordant"`
	Concordance       *float64 `json:"concordance"`
}

func orNull(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// MarshalJSON writes the score with snake_case names, NaN as null.
func (s Score) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonScore{s.Points, orNull(s.MedianAbsLogRatio), s.Within, orNull(s.WithinShare), s.Pairs, s.Concordant, orNull(s.Concordance)})
}

// WriteJSON writes the result as one JSON object, for scripts:
//
//	{"reference": "ref.csv", "rows": 7, "runs": 6,
//	 "groups": [{"figure": "fig10a", "workload": "1", "missing": 1, "score": {"points": 7, "median_abs_log_ratio": 0.223, …}}],
//	 "overall": {…}, "points": [{"line": 2, "figure": …, "value": 20, "model": 20, "run": …, "log_ratio": 0}, …],
//	 "worst": […], "missing": [{"line": 8, …, "reason": "no run of CRIU on workload 1"}], "notes": […]}
//
// Scores without points or pairs have null medians, shares and
// concordances.
func (r *Result) WriteJSON(w io.Writer) error {
	type group struct {
		Figure   string `json:"figure"`
		Workload string `json:"workload"`
		Missing  int    `json:"missing"`
		Score    Score  `json:"score"`
	}
	out := struct {
		Reference string    `json:"reference"`
		Rows      int       `json:"rows"`
		Runs      int       `json:"runs"`
		Groups    []group   `json:"groups"`
		Overall   Score     `json:"overall"`
		Points    []Point   `json:"points"`
		Worst     []Point   `json:"worst"`
		Missing   []Missing `json:"missing"`
		Notes     []string  `json:"notes"`
	}{Reference: r.Reference, Rows: r.Rows, Runs: r.Runs, Overall: r.Overall,
		Points: nonNil(r.Points), Worst: nonNil(r.Worst), Missing: nonNil(r.Missing), Notes: nonNil(r.Notes)}
	for _, g := range r.Groups {
		out.Groups = append(out.Groups, group{g.Figure, g.Workload, g.Missing, g.Score})
	}
	out.Groups = nonNil(out.Groups)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// nonNil makes a nil slice empty, so JSON says [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
