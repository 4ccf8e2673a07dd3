package ui

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"strconv"
)

// Charts are drawn on the server as SVG: no script, no chart library,
// readable without CSS. Colours come from ui.css classes (the CSP forbids
// style attributes); each chart has a <title> and <desc> and the page
// shows the same numbers as a table.

// Bar is one bar of a bar chart.
type Bar struct {
	Label string
	Value float64
}

// Series is one line of a line chart; Values align with the chart's labels
// (NaN: no data that period).
type Series struct {
	Name   string
	Class  string // CSS class of the line: line, line2
	Values []float64
}

const (
	chartWidth  = 720
	chartLeft   = 150 // room for labels
	chartRight  = 60
	barHeight   = 22
	lineHeight  = 260
	lineBottom  = 40
	lineTopRoom = 20
)

// svgBuilder writes SVG markup; every text passes through template
// escaping.
type svgBuilder struct{ bytes.Buffer }

func (b *svgBuilder) text(x, y float64, anchor, class, s string) {
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="%s" class="%s">%s</text>`, x, y, anchor, class, template.HTMLEscapeString(s))
}

func fmtValue(v float64, unit string) string {
	switch {
	case v >= 100 || v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64) + unit
	default:
		return strconv.FormatFloat(v, 'g', 3, 64) + unit
	}
}

// BarChart draws horizontal bars, one per row, labelled with their value
// and unit.
func BarChart(id, title, desc, unit string, bars []Bar) template.HTML {
	maxV := 0.0
	for _, b := range bars {
		maxV = math.Max(maxV, b.Value)
	}
	if maxV == 0 {
		maxV = 1
	}
	h := len(bars)*barHeight + 10
	var b svgBuilder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-labelledby="%[3]s-title %[3]s-desc">`, chartWidth, h, template.HTMLEscapeString(id))
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%[1]s-desc">%s</desc>`, template.HTMLEscapeString(id), template.HTMLEscapeString(title), template.HTMLEscapeString(desc))
	span := float64(chartWidth - chartLeft - chartRight)
	for i, bar := range bars {
		y := float64(i*barHeight + 5)
		w := bar.Value / maxV * span
		b.text(chartLeft-6, y+barHeight*0.65, "end", "label", truncate(bar.Label, 22))
		fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%.1f" width="%.1f" height="%d"></rect>`, chartLeft, y+2, math.Max(w, 1), barHeight-6)
		b.text(chartLeft+w+4, y+barHeight*0.65, "start", "value", fmtValue(bar.Value, unit))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built from escaped parts above
}

// LineChart draws series over labelled periods, with a y axis in unit.
func LineChart(id, title, desc, unit string, labels []string, series []Series) template.HTML {
	maxV := 0.0
	for _, s := range series {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				maxV = math.Max(maxV, v)
			}
		}
	}
	if maxV == 0 {
		maxV = 1
	}
	maxV = niceCeil(maxV)
	var b svgBuilder
	total := lineHeight + lineBottom
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-labelledby="%[3]s-title %[3]s-desc">`, chartWidth, total, template.HTMLEscapeString(id))
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%[1]s-desc">%s</desc>`, template.HTMLEscapeString(id), template.HTMLEscapeString(title), template.HTMLEscapeString(desc))
	left, right := 60.0, float64(chartWidth-20)
	top, bottom := float64(lineTopRoom), float64(lineHeight)
	for i := 0; i <= 4; i++ { // grid and y labels
		v := maxV * float64(i) / 4
		y := bottom - (bottom-top)*float64(i)/4
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"></line>`, left, y, right, y)
		b.text(left-6, y+4, "end", "label", fmtValue(v, unit))
	}
	n := len(labels)
	x := func(i int) float64 {
		if n <= 1 {
			return (left + right) / 2
		}
		return left + (right-left)*float64(i)/float64(n-1)
	}
	step := max(1, n/8) // at most ~8 x labels
	for i, l := range labels {
		if i%step == 0 || i == n-1 {
			b.text(x(i), bottom+18, "middle", "label", l)
		}
	}
	for si, s := range series {
		class := s.Class
		if class == "" {
			class = "line"
		}
		var path bytes.Buffer
		pen := false
		for i, v := range s.Values {
			if i >= n || math.IsNaN(v) {
				pen = false
				continue
			}
			y := bottom - (bottom-top)*v/maxV
			cmd := "L"
			if !pen {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, x(i), y)
			fmt.Fprintf(&b, `<circle class="%s dot" cx="%.1f" cy="%.1f" r="3"><title>%s %s: %s</title></circle>`, class, x(i), y,
				template.HTMLEscapeString(s.Name), template.HTMLEscapeString(labels[i]), fmtValue(v, unit))
			pen = true
		}
		fmt.Fprintf(&b, `<path class="%s" d="%s"></path>`, class, path.String())
		b.text(right-float64(si)*140, 14, "end", class+"-key", s.Name)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built from escaped parts above
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
