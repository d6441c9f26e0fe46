/*
 * The chart by keyboard (issue 14, defect 16). The chart's box (CHART in
 * dashapp/layout.py) takes the focus; Left and Right step through the plotted vehicles
 * in the order of the x axis, Home and End go to the first and last, Enter opens the
 * highlighted vehicle's details as a click on its point does, and Escape clears the
 * highlight. The highlight is plotly's own hover label (Plotly.Fx.hover); the points
 * are read from what the figure sent (gd.data: x, y, customdata, text), and the live
 * region says which vehicle is highlighted.
 */
(function () {
    "use strict";

    /* dashapp/layout.py's CHART_ID and CHART_POINT_ID, and dashapp/figures.py's GRAPH_ID. */
    const CHART = "chart-keys";
    const ANNOUNCE = "chart-point";
    const GRAPH = "fuel-efficiency-vs-horsepower-graph";
    const STEPS = {ArrowRight: 1, ArrowLeft: -1};

    /* The highlighted vehicle's id: kept by id, so a redrawn figure keeps it if it can. */
    let highlighted = null;

    function plotOf(chart) {
        return chart.querySelector("#" + GRAPH + " .js-plotly-plot");
    }

    /* Plotly's title object or text, as plain text. */
    function titleOf(axis) {
        const title = axis && axis.title;
        return String((title && title.text) || title || "");
    }

    /* The points of the shown marker traces, ordered along x (then y). */
    function points(gd) {
        const decode = window.fueldashFigure.decode;
        const found = [];
        (gd.data || []).forEach((trace, curve) => {
            if (trace.mode !== "markers" || trace.visible === false
                || trace.visible === "legendonly") {
                return;
            }
            const ids = decode(trace.customdata);
            const xs = decode(trace.x);
            const ys = decode(trace.y);
            const labels = trace.text || [];
            ids.forEach((id, i) => found.push({
                curve: curve, point: i, id: Number(id), x: xs[i], y: ys[i],
                label: labels[i], maker: (trace.meta && trace.meta.manufacturer) || trace.name,
            }));
        });
        return found.sort((a, b) => a.x - b.x || a.y - b.y || a.id - b.id);
    }

    const round2 = (value) => Math.round(value * 100) / 100;

    function announce(text) {
        const region = document.getElementById(ANNOUNCE);
        if (region) {
            region.textContent = text;
        }
    }

    function show(gd, list, at) {
        const p = list[at];
        highlighted = p.id;
        window.Plotly.Fx.hover(gd, [{curveNumber: p.curve, pointNumber: p.point}]);
        const layout = gd.layout || {};
        announce(p.maker + " " + (p.label || "") + ": " + titleOf(layout.xaxis) + " "
            + round2(p.x) + ", " + titleOf(layout.yaxis) + " " + round2(p.y) + ". Vehicle "
            + (at + 1) + " of " + list.length + ".");
    }

    /* Opens the details the way a click does: the graph's clickData, which the page's
     * clickedVehicle callback turns into the selected vehicle and the address. */
    function open(p) {
        window.dash_clientside.set_props(GRAPH, {
            clickData: {points: [{
                curveNumber: p.curve, pointNumber: p.point, pointIndex: p.point,
                x: p.x, y: p.y, customdata: p.id,
            }]},
        });
    }

    function onKey(event) {
        const chart = event.target;
        if (!chart || chart.id !== CHART || event.altKey || event.ctrlKey || event.metaKey) {
            return;
        }
        const gd = plotOf(chart);
        if (!gd || !window.Plotly || !window.fueldashFigure) {
            return;
        }
        const list = points(gd);
        if (!list.length) {
            return;
        }
        const current = list.findIndex((p) => p.id === highlighted);
        let at;
        if (event.key in STEPS) {
            at = current < 0 ? (STEPS[event.key] > 0 ? 0 : list.length - 1)
                : Math.min(list.length - 1, Math.max(0, current + STEPS[event.key]));
        } else if (event.key === "Home" || event.key === "End") {
            at = event.key === "Home" ? 0 : list.length - 1;
        } else if (event.key === "Enter" && current >= 0) {
            event.preventDefault();
            open(list[current]);
            return;
        } else if (event.key === "Escape" && current >= 0) {
            highlighted = null;
            window.Plotly.Fx.unhover(gd);
            announce("");
            return;
        } else {
            return;
        }
        event.preventDefault();  // the arrows and Home/End would scroll the page
        show(gd, list, at);
    }

    /* The hover label goes with the focus; the vehicle stays highlighted for its return. */
    function onBlur(event) {
        const gd = event.target && event.target.id === CHART && plotOf(event.target);
        if (gd && window.Plotly) {
            window.Plotly.Fx.unhover(gd);
        }
    }

    document.addEventListener("keydown", onKey);
    document.addEventListener("focusout", onBlur);
}());
