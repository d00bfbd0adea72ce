package main

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// charts draws, into dir, the success rate and the p99 latency over time
// of every fault (one line per contender, the fault's time shaded) and the
// recovery time per contender. It returns the files by fault name (and
// "recovery"), relative to dir's parent.
func (r *report) charts(dir string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, f := range r.Faults {
		for _, c := range []struct {
			suffix, title, ylabel string
			pick                  func(series) []float64
			log                   bool
		}{
			{"success", "success rate", "% of calls started in the bucket", func(s series) []float64 { return s.Success }, false},
			{"p99", "p99 latency", "ms (log scale)", func(s series) []float64 { return s.P99 }, true},
		} {
			name := f.Name + "-" + c.suffix + ".svg"
			if err := lineChart(&f, f.Title+": "+c.title, c.ylabel, c.pick, c.log, filepath.Join(dir, name)); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			out[f.Name] = append(out[f.Name], "charts/"+name)
		}
	}
	if ok, err := r.recoveryChart(filepath.Join(dir, "recovery.svg")); err != nil {
		return nil, err
	} else if ok {
		out["recovery"] = []string{"charts/recovery.svg"}
	}
	return out, nil
}

// style gives contender i its color and dashes.
func style(i int) (color.Color, []vg.Length) {
	return plotutil.Color(i), plotutil.Dashes(i)
}

func lineChart(f *faultRun, title, ylabel string, pick func(series) []float64, logY bool, file string) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "seconds from the start of the window (fault shaded)"
	p.Y.Label.Text = ylabel
	lo, hi := math.Inf(1), math.Inf(-1)
	type named struct {
		name string
		line *plotter.Line
	}
	var lines []named
	for i, res := range f.Results {
		vals := pick(res.Series)
		var pts plotter.XYs
		for k, v := range vals {
			x := (float64(k) + 0.5) * res.Series.Bucket / 1000
			switch {
			case v < 0 && !logY:
				v = 0 // no call started: nothing succeeded
			case v < 0:
				continue // no call, no latency
			case logY:
				v = max(v, 0.01)
			}
			pts = append(pts, plotter.XY{X: x, Y: v})
			lo, hi = min(lo, v), max(hi, v)
		}
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color, l.Dashes = style(i)
		l.Width = vg.Points(1.2)
		lines = append(lines, named{res.Contender, l})
	}
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Y.Min, p.Y.Max = 0.005, 10
		if !math.IsInf(lo, 1) {
			p.Y.Min, p.Y.Max = lo/2, hi*2
		}
	} else {
		p.Y.Min, p.Y.Max = 0, 105
	}
	// Shade the fault of the first contender (the others' differ by the
	// time a restart takes at most), under the lines: gonum/plot draws in
	// the order of Add.
	if len(f.Episodes) > 0 {
		for _, iv := range f.Episodes[0] {
			x0, x1 := iv[0]/1000, iv[1]/1000
			if x1-x0 < 0.002 {
				x1 = x0 + 0.002
			}
			poly, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: p.Y.Min}, {X: x1, Y: p.Y.Min}, {X: x1, Y: p.Y.Max}, {X: x0, Y: p.Y.Max}})
			if err != nil {
				return err
			}
			poly.Color = color.RGBA{R: 230, G: 230, B: 230, A: 255}
			poly.LineStyle.Width = 0
			p.Add(poly)
		}
	}
	leg := plot.NewLegend()
	for _, l := range lines {
		p.Add(l.line)
		leg.Add(l.name, l.line)
	}
	p.X.Min, p.X.Max = 0, f.WindowMS/1000
	return save(p, leg, file)
}

// save writes p with legend leg on its right into file, in the format its
// extension names (svg, png, ...).
func save(p *plot.Plot, leg plot.Legend, file string) error {
	const legendWidth = 1.5 * vg.Inch
	w, h := 10*vg.Inch, 4*vg.Inch
	c, err := draw.NewFormattedCanvas(w, h, strings.TrimPrefix(filepath.Ext(file), "."))
	if err != nil {
		return err
	}
	dc := draw.New(c)
	p.Draw(draw.Crop(dc, 0, -legendWidth, 0, 0))
	leg.Top, leg.Left = true, true
	leg.YOffs = -p.Title.TextStyle.Height(p.Title.Text) - vg.Points(8)
	leg.Draw(draw.Crop(dc, w-legendWidth+vg.Points(6), 0, 0, 0))
	out, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(out); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// recoveryChart draws a grouped bar chart of the recovery time (seconds)
// of every contender in every fault that has an end; a contender that did
// not recover gets a bar as long as the watched tail.
func (r *report) recoveryChart(file string) (bool, error) {
	var names []string
	var runs []*faultRun
	for i := range r.Faults {
		if len(r.Faults[i].Results) > 0 && r.Faults[i].Results[0].FaultEnd >= 0 {
			names = append(names, r.Faults[i].Name)
			runs = append(runs, &r.Faults[i])
		}
	}
	if len(runs) == 0 {
		return false, nil
	}
	p := plot.New()
	p.Title.Text = "recovery time after the fault's end (× marks no recovery within the watched tail)"
	p.Y.Label.Text = "seconds"
	leg := plot.NewLegend()
	n := len(r.Config.contenders)
	w := vg.Points(float64(60) / float64(n))
	for i, c := range r.Config.contenders {
		vals := make(plotter.Values, len(runs))
		var never plotter.XYLabels
		for j, f := range runs {
			if res := f.of(c.name); res != nil {
				if res.Recovery < 0 {
					vals[j] = res.RecoveryWindow / 1000
					never.XYs = append(never.XYs, plotter.XY{X: float64(j), Y: vals[j]})
					never.Labels = append(never.Labels, "×")
				} else {
					vals[j] = res.Recovery / 1000
				}
			}
		}
		bars, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return false, err
		}
		col, _ := style(i)
		bars.Color = col
		bars.LineStyle.Width = 0
		bars.Offset = w * vg.Length(float64(i)-float64(n-1)/2)
		p.Add(bars)
		leg.Add(c.name, bars)
		if len(never.XYs) > 0 {
			labels, err := plotter.NewLabels(never)
			if err != nil {
				return false, err
			}
			for k := range labels.TextStyle {
				labels.TextStyle[k].XAlign = draw.XCenter
			}
			labels.Offset = vg.Point{X: bars.Offset, Y: vg.Points(2)}
			p.Add(labels)
		}
	}
	p.NominalX(names...)
	return true, save(p, leg, file)
}
