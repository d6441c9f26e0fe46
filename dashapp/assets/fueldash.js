/*
 * The dashboard's browser side, the clientside callbacks of dashapp/callbacks.py: what the
 * page draws from the figure the server sent (summary cards and CSV link from
 * layout.meta.view, set by dashapp/view.py:draw_view; table rows, trend lines, the
 * clicked or picked vehicle from the traces themselves), the address bar kept in step
 * with the controls, and the table's script, loaded only when asked.
 */
(function () {
    "use strict";

    const TYPED_ARRAYS = {
        i1: Int8Array, u1: Uint8Array, i2: Int16Array, u2: Uint16Array,
        i4: Int32Array, u4: Uint32Array, f4: Float32Array, f8: Float64Array,
    };

    /* A figure array in either form plotly accepts: a list, or {dtype, bdata} base64. */
    function decode(values) {
        if (Array.isArray(values) || ArrayBuffer.isView(values)) {
            return Array.from(values);
        }
        const Typed = values && TYPED_ARRAYS[values.dtype];
        if (!Typed || typeof values.bdata !== "string") {
            return [];
        }
        const binary = atob(values.bdata);
        const bytes = new Uint8Array(binary.length);
        for (let i = 0; i < binary.length; i += 1) {
            bytes[i] = binary.charCodeAt(i);
        }
        return Array.from(new Typed(bytes.buffer));
    }

    /* For the chart's keyboard steps (chartkeys.js), which read the same arrays. */
    window.fueldashFigure = {decode: decode};

    function viewOf(figure) {
        const meta = figure && figure.layout && figure.layout.meta;
        return (meta && meta.view) || null;
    }

    function component(namespace, type, props) {
        return {namespace: namespace, type: type, props: props};
    }

    function htmlElement(type, props) {
        return component("dash_html_components", type, props);
    }

    const round2 = (value) => Math.round(value * 100) / 100;

    /* The plotted points as table rows, in plotting order. */
    function tableRows(figure) {
        const view = viewOf(figure);
        if (!view || !view.rows) {
            return [];
        }
        const rows = [];
        for (const trace of figure.data || []) {
            if (trace.mode !== "markers") {
                continue;
            }
            const ids = decode(trace.customdata);
            const xs = decode(trace.x);
            const ys = decode(trace.y);
            const labels = trace.text || [];
            const manufacturer = trace.meta ? trace.meta.manufacturer : trace.name;
            const colour = trace.marker && trace.marker.color;
            for (let i = 0; i < ids.length; i += 1) {
                rows.push({
                    id: ids[i],
                    colour: colour,
                    manufacturer: manufacturer,
                    vehicle: labels[i],
                    x: round2(xs[i]),
                    y: round2(ys[i]),
                });
            }
        }
        return rows;
    }

    /* A control's value as a list: multi-value controls send lists, cleared ones null. */
    function listOf(value) {
        if (Array.isArray(value)) {
            return value;
        }
        return value === null || value === undefined ? [] : [value];
    }

    /*
     * The controls' values in the order the callbacks pass them (CONTROL_IDS in
     * callbacks.py, but for the dataset, which comes after the year slider's ends).
     */
    const CONTROLS = [
        "manufacturers", "years", "origins", "cylinders", "fuel_types",
        "vehicle_classes", "drives", "powertrains", "x", "y", "units", "trend",
    ];
    /* Filters whose options come from the dataset, as callbacks.py lists them. */
    const DATASET_FILTERS = [
        "origins", "cylinders", "fuel_types", "vehicle_classes", "drives", "powertrains",
    ];
    /* Each text filter's query parameter (dashapp/state.py's TEXT_FILTERS). */
    const TEXT_PARAMS = {
        fuel_types: "fuel_type", vehicle_classes: "vehicle_class", drives: "drive",
        powertrains: "powertrain",
    };
    const DEFAULT_DATASET = "auto-mpg";

    function controlsFrom(values) {
        const controls = {};
        CONTROLS.forEach((name, i) => { controls[name] = values[i]; });
        return controls;
    }

    /*
     * The address's query string for these control values, as dashapp/state.py's to_query
     * writes it: defaults left out (the axes' defaults are the dataset's), and a year range
     * equal to the slider's ends meaning every year.
     */
    function linkQuery(controls, first, last, choices) {
        const params = new URLSearchParams();
        const add = (name, values) => values.forEach((value) => params.append(name, value));
        const dataset = controls.dataset || DEFAULT_DATASET;
        const shown = (choices && choices[dataset]) || {x: "horsepower", y: "combined_mpg"};
        add("dataset", dataset === DEFAULT_DATASET ? [] : [dataset]);
        add("manufacturer", listOf(controls.manufacturers));
        const years = controls.years;
        if (Array.isArray(years) && years.length === 2) {
            add("year_min", years[0] === first ? [] : [years[0]]);
            add("year_max", years[1] === last ? [] : [years[1]]);
        }
        add("origin", listOf(controls.origins));
        add("cylinders", Array.from(new Set(listOf(controls.cylinders))).sort((a, b) => a - b));
        Object.entries(TEXT_PARAMS).forEach(([name, param]) => add(param, listOf(controls[name])));
        add("x", controls.x && controls.x !== shown.x ? [controls.x] : []);
        add("y", controls.y && controls.y !== shown.y ? [controls.y] : []);
        add("units", controls.units && controls.units !== "mpg" ? [controls.units] : []);
        add("trend", listOf(controls.trend).length > 0 ? ["1"] : []);
        add("vehicle", controls.vehicle ? [controls.vehicle] : []);
        const query = params.toString();
        return query ? "?" + query : "";
    }

    /* The link store of dashapp/layout.py (LINK_ID). */
    const LINK_STORE = "view-link";
    /* The table button's words (dashapp/layout.py's TABLE_SHOW and TABLE_HIDE). */
    const TABLE_SHOW = "Show the plotted vehicles as a table";
    const TABLE_HIDE = "Hide the table";
    /* Wider than this, the controls start open and the details sit beside the chart. */
    const DESKTOP = "(min-width: 768px)";

    /* Text that plotly would render from its HTML subset (escaped names), as plain text. */
    function plainText(markup) {
        if (!markup) {
            return "";
        }
        const parsed = new DOMParser().parseFromString(String(markup), "text/html");
        return parsed.body.textContent || "";
    }

    /* The chart's title and subtitle (or its empty-state message) as one line of text. */
    function caption(figure) {
        const layout = (figure && figure.layout) || {};
        const title = layout.title || {};
        if (title.text) {
            const subtitle = title.subtitle && title.subtitle.text;
            return plainText(title.text) + (subtitle ? " (" + plainText(subtitle) + ")" : "");
        }
        const note = (layout.annotations || [])[0];
        return note ? plainText(note.text) : "";
    }

    /* The position of the vehicle ``id`` among a trace's points, or -1. */
    function pointOf(trace, id) {
        return decode(trace.customdata).indexOf(id);
    }

    /* Scripts left off the first page load (dashapp/lean.py), each fetched at most once. */
    const loading = {};
    function loadScript(name) {
        if (!loading[name]) {
            loading[name] = new Promise((resolve, reject) => {
                const note = document.getElementById("fueldash-deferred-scripts");
                const src = note && JSON.parse(note.textContent)[name];
                if (!src) {
                    reject(new Error("no deferred script named " + name));
                    return;
                }
                const script = document.createElement("script");
                script.src = src;
                script.onload = resolve;
                script.onerror = () => reject(new Error("could not load " + src));
                document.head.appendChild(script);
            });
            loading[name].catch(() => delete loading[name]);  // a later click tries again
        }
        return loading[name];
    }

    // The figure each part last drew: restyling the figure in the browser (trend lines, a
    // highlighted row) keeps its view, and must not redraw the cards or reset the table.
    let cardsToken = null;
    let tableToken = null;

    /* The picks with ``vehicle`` added, at most ``caps.compare`` (the oldest pick leaves). */
    function withPick(picks, vehicle, caps) {
        const noUpdate = window.dash_clientside.no_update;
        const list = Array.isArray(picks) ? picks : [];
        if (!vehicle || list.some((p) => p.id === vehicle.id)) {
            return noUpdate;
        }
        const most = (caps && caps.compare) || 4;
        return list.concat([{id: vehicle.id, label: vehicle.label}]).slice(-most);
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        fueldash: {
            viewParts: function (figure) {
                const noUpdate = window.dash_clientside.no_update;
                const view = viewOf(figure);
                if (!view) {
                    return [[], "", true, ""];
                }
                if (view.token === cardsToken) {
                    return [noUpdate, noUpdate, noUpdate, noUpdate];
                }
                cardsToken = view.token;
                const cards = view.cards.map(([title, value, detail]) => htmlElement("Div", {
                    className: "card",
                    children: [
                        htmlElement("H3", {children: title}),
                        htmlElement("P", {children: value, className: "value"}),
                        htmlElement("P", {children: detail}),
                    ],
                }));
                // Nothing plotted (no manufacturer picked): nothing to download either.
                const plotted = figure.layout.meta.plotted > 0;
                return [cards, plotted ? view.csv : "", !plotted, caption(figure)];
            },

            tableRows: function (figure) {
                const noUpdate = window.dash_clientside.no_update;
                const view = viewOf(figure);
                if (!view || view.token === tableToken) {
                    return [noUpdate, noUpdate];
                }
                tableToken = view.token;
                return [tableRows(figure), view.columns];
            },

            /* Trend lines are in every figure; the toggle shows or hides them. */
            showTrend: function (trend, figure) {
                if (!figure || !figure.data) {
                    return window.dash_clientside.no_update;
                }
                const visible = listOf(trend).length > 0;
                const data = figure.data.map(
                    (t) => (t.meta && t.meta.trend ? Object.assign({}, t, {visible: visible}) : t),
                );
                return Object.assign({}, figure, {data: data});
            },

            /* The id of the vehicle a click landed on, from its trace's customdata. */
            clickedVehicle: function (click, figure) {
                const point = click && click.points && click.points[0];
                const trace = point && figure && figure.data && figure.data[point.curveNumber];
                const id = trace ? decode(trace.customdata)[point.pointNumber] : undefined;
                return id === undefined ? window.dash_clientside.no_update : Number(id);
            },

            /* A row picked in the table: that vehicle is the selected one. */
            pickedRow: function (rows) {
                const row = Array.isArray(rows) && rows[0];
                return row ? row.id : window.dash_clientside.no_update;
            },

            closeDetails: function (clicks) {
                return clicks ? null : window.dash_clientside.no_update;
            },

            /*
             * The figure with the selected vehicle's point marked (plotly enlarges it and
             * dims the rest), or unmarked when none is selected; no_update when it already
             * shows that, so a figure is redrawn only when the mark changes.
             */
            markVehicle: function (selected, figure) {
                const noUpdate = window.dash_clientside.no_update;
                if (!figure || !figure.data) {
                    return noUpdate;
                }
                const id = selected === null || selected === undefined ? null : Number(selected);
                let changed = false;
                const data = figure.data.map((trace) => {
                    if (trace.mode !== "markers") {
                        return trace;
                    }
                    const at = id === null ? -1 : pointOf(trace, id);
                    const wanted = id === null ? undefined : (at < 0 ? [] : [at]);
                    if (JSON.stringify(trace.selectedpoints) === JSON.stringify(wanted)) {
                        return trace;
                    }
                    changed = true;
                    const marked = Object.assign({}, trace, {selectedpoints: wanted});
                    if (wanted === undefined) {
                        delete marked.selectedpoints;
                    }
                    return marked;
                });
                return changed ? Object.assign({}, figure, {data: data}) : noUpdate;
            },

            /* The axis dropdowns' options, the fuel axes titled in the chosen unit. */
            axisOptions: function (units, dataset, choices) {
                const noUpdate = window.dash_clientside.no_update;
                const options = choices && choices[dataset];
                if (!options) {
                    return [noUpdate, noUpdate];
                }
                const axes = units === "l100km" ? options.axes_l100km : options.axes;
                return [axes, axes];
            },

            unitsClass: function (units) {
                return "page units-" + (units === "l100km" ? "l100km" : "mpg");
            },

            /*
             * A word when more manufacturers are picked than one chart plots. Those offered
             * disabled (nothing to plot), which "Select all" picks too, are then left out
             * by the server (callbacks.py plottable_picks), and named here.
             */
            capNotice: function (manufacturers, options, caps) {
                const picked = listOf(manufacturers);
                const cap = caps && caps.manufacturers;
                if (!cap || picked.length <= cap) {
                    return "";
                }
                const disabled = new Set(
                    (options || []).filter((o) => o && o.disabled).map((o) => o.value),
                );
                const empty = picked.filter((name) => disabled.has(name));
                const count = picked.length - empty.length;
                const notes = empty.length ? [empty.join(", ")
                    + (empty.length === 1 ? " has" : " have") + " nothing to plot, so "
                    + (empty.length === 1 ? "it is" : "they are") + " left out."] : [];
                if (count > cap) {
                    notes.push(count + " manufacturers are picked; a chart plots at most " + cap
                        + ", so it shows the first " + cap + ". Remove some to see the others.");
                }
                return notes.join(" ");
            },

            /* A vehicle from the details panel joins the comparison. */
            addFromDetails: function (clicks, vehicle, picks, caps) {
                return withPick(picks, vehicle, caps);
            },

            /* A vehicle found by the model search joins the comparison; the box empties. */
            addFromSearch: function (value, options, picks, caps) {
                const noUpdate = window.dash_clientside.no_update;
                const option = (options || []).find((o) => o.value === value);
                if (!option) {
                    return [noUpdate, noUpdate];
                }
                return [withPick(picks, {id: option.value, label: option.label}, caps), null];
            },

            removeCompared: function (clicks, picks) {
                const triggered = window.dash_clientside.callback_context.triggered_id;
                if (!triggered || !clicks.some((n) => n)) {
                    return window.dash_clientside.no_update;
                }
                return (picks || []).filter((p) => p.id !== triggered.index);
            },

            /* The picked vehicles, each with a remove button, and the link to /compare. */
            compareTray: function (picks, caps) {
                const list = Array.isArray(picks) ? picks : [];
                const most = (caps && caps.compare) || 4;
                const items = list.map((p) => htmlElement("Li", {children: [
                    p.label + " ",
                    htmlElement("Button", {
                        id: {type: "compare-remove", index: p.id},
                        className: "btn btn-sm btn-outline-secondary ms-2",
                        children: "Remove",
                        "aria-label": "Remove " + p.label + " from the comparison",
                    }),
                ]}));
                const ready = list.length >= 2;
                const link = ready
                    ? htmlElement("A", {
                        id: "compare-link",
                        className: "btn btn-primary",
                        href: "/compare?ids=" + list.map((p) => p.id).join(","),
                        children: "Compare " + list.length + " vehicles",
                    })
                    : htmlElement("P", {
                        className: "notice",
                        children: list.length
                            ? "Pick one more vehicle to compare (up to " + most + ")."
                            : "No vehicles picked yet.",
                    });
                return [htmlElement("Ol", {children: items}), link];
            },

            controlsOpen: function () {
                return window.matchMedia(DESKTOP).matches;
            },

            /*
             * A dataset's own manufacturers, filter values and axes for the controls. Picked
             * on the page, it also opens on its default axes with no filter; set from the
             * address (which then names it already), the address's values stay.
             */
            datasetControls: function (dataset, choices, linked) {
                const noUpdate = window.dash_clientside.no_update;
                const options = choices && choices[dataset];
                const outputs = 4 + 2 * DATASET_FILTERS.length;
                if (!options) {
                    return Array(outputs).fill(noUpdate);
                }
                const fromAddress = linked === dataset;
                return [
                    options.manufacturers,
                    fromAddress ? noUpdate : options.x,
                    fromAddress ? noUpdate : options.y,
                    ...DATASET_FILTERS.map((name) => options[name]),
                    ...DATASET_FILTERS.map(() => (fromAddress ? noUpdate : [])),
                    null,
                ];
            },

            /* The address for the controls, when a visitor changed one. */
            linkFromControls: function (...values) {
                const noUpdate = window.dash_clientside.no_update;
                const triggers = window.dash_clientside.callback_context.triggered;
                if (triggers.some((t) => t.prop_id.startsWith(LINK_STORE + "."))) {
                    return noUpdate;  // set from the address, which stays as it was
                }
                const [, selected, first, last, dataset, choices] = values.slice(
                    CONTROLS.length,
                );
                const controls = Object.assign(
                    controlsFrom(values), {dataset: dataset, vehicle: selected},
                );
                const query = linkQuery(controls, first, last, choices);
                return query === window.location.search ? noUpdate : query;
            },

            /*
             * The address's query string, for the server to read into the controls, when
             * the controls do not show it: the page's own link, or back and forward.
             */
            controlsFromLink: function (href, ...values) {
                const noUpdate = window.dash_clientside.no_update;
                const search = window.location.search;
                const [first, last, dataset, link, defaults, choices, selected] = values.slice(
                    CONTROLS.length,
                );
                const controls = Object.assign(
                    controlsFrom(values), {dataset: dataset, vehicle: selected},
                );
                const shown = linkQuery(controls, first, last, choices);
                // The plain address is the default view, which the page starts with.
                const start = {manufacturers: defaults};
                const plain = search === "" && shown === linkQuery(start, first, last, choices);
                return search === shown || plain || search === link ? noUpdate : search;
            },

            /* Odd clicks show the table (its script loaded the first time), even hide it. */
            showTable: function (clicks, spec, existing) {
                const noUpdate = window.dash_clientside.no_update;
                if (clicks % 2 === 0) {
                    return [noUpdate, true, TABLE_SHOW, "false"];
                }
                if (existing && existing.type === "AgGrid") {
                    return [noUpdate, false, TABLE_HIDE, "true"];
                }
                return loadScript("grid").then(
                    () => {
                        // Created empty: tableRows fills it as it appears, from the
                        // figure shown by then.
                        tableToken = null;
                        const props = Object.assign({}, spec, {rowData: [], columnDefs: []});
                        return [component("dash_ag_grid", "AgGrid", props), false, TABLE_HIDE,
                            "true"];
                    },
                    () => [
                        htmlElement("P", {
                            className: "notice warning",
                            children: "The table could not be loaded; try again.",
                        }),
                        false,
                        TABLE_SHOW,
                        "false",
                    ],
                );
            },
        },
    });
}());
