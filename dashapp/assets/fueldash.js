/*
 * The dashboard's browser side: what the page draws from the figure the server sent
 * (summary cards and CSV link from layout.meta.view, set by dashapp/callbacks.py:draw_view;
 * table rows from the traces themselves), and the table's script, loaded only when asked.
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
