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
            for (let i = 0; i < ids.length; i += 1) {
                rows.push({
                    id: ids[i],
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
        const query = params.toString();
        return query ? "?" + query : "";
    }

    /* The link store of dashapp/layout.py (LINK_ID). */
    const LINK_STORE = "view-link";

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

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        fueldash: {
            viewParts: function (figure) {
                const noUpdate = window.dash_clientside.no_update;
                const view = viewOf(figure);
                if (!view) {
                    return [[], ""];
                }
                if (view.token === cardsToken) {
                    return [noUpdate, noUpdate];
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
                return [cards, view.csv];
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

            /* A row picked in the table: highlight its point (plotly dims the others). */
            highlightRow: function (rows, figure) {
                const noUpdate = window.dash_clientside.no_update;
                const row = Array.isArray(rows) && rows[0];
                if (!row || !figure || !figure.data) {
                    return [noUpdate, noUpdate];
                }
                const data = figure.data.map((trace) => {
                    if (trace.mode !== "markers") {
                        return trace;
                    }
                    const at = decode(trace.customdata).indexOf(row.id);
                    return Object.assign({}, trace, {selectedpoints: at < 0 ? [] : [at]});
                });
                return [Object.assign({}, figure, {data: data}), row.id];
            },

            /*
             * A dataset's own manufacturers, filter values and axes for the controls. Picked
             * on the page, it also opens on its default axes with no filter; set from the
             * address (which then names it already), the address's values stay.
             */
            datasetControls: function (dataset, choices, linked) {
                const noUpdate = window.dash_clientside.no_update;
                const options = choices && choices[dataset];
                const outputs = 6 + 2 * DATASET_FILTERS.length;
                if (!options) {
                    return Array(outputs).fill(noUpdate);
                }
                const fromAddress = linked === dataset;
                return [
                    options.manufacturers, options.axes, options.axes,
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
                const [, first, last, dataset, choices] = values.slice(CONTROLS.length);
                const controls = Object.assign(controlsFrom(values), {dataset: dataset});
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
                const [first, last, dataset, link, defaults, choices] = values.slice(
                    CONTROLS.length,
                );
                const controls = Object.assign(controlsFrom(values), {dataset: dataset});
                const shown = linkQuery(controls, first, last, choices);
                // The plain address is the default view, which the page starts with.
                const start = {manufacturers: defaults};
                const plain = search === "" && shown === linkQuery(start, first, last, choices);
                return search === shown || plain || search === link ? noUpdate : search;
            },

            showTable: function (clicks, spec) {
                return loadScript("grid").then(
                    () => {
                        // Created empty: tableRows fills it as it appears, from the
                        // figure shown by then.
                        tableToken = null;
                        const props = Object.assign({}, spec, {rowData: [], columnDefs: []});
                        return [component("dash_ag_grid", "AgGrid", props), true];
                    },
                    () => [
                        htmlElement("P", {
                            className: "notice warning",
                            children: "The table could not be loaded; try again.",
                        }),
                        false,
                    ],
                );
            },
        },
    });
}());
