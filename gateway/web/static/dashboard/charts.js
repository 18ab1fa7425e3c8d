/**
 * Charts drawn with the vendored Chart.js (static/chartjs/chart.umd.js, loaded by the page as
 * window.Chart). Every chart is registered so a view can destroy its charts before redrawing,
 * and a view updated in place (morph.js) can give a chart on screen the data of its new drawing.
 */

import {h} from './dom.js';
import {formatShare, slugLabel} from './format.js';

const PALETTE = ['#2563eb', '#16a34a', '#f59e0b', '#dc2626', '#7c3aed', '#0891b2', '#db2777',
  '#65a30d', '#ea580c', '#4b5563'];
const live = new Set();
/** The configuration each chart was drawn with (what carryChart gives the chart it replaces). */
const configs = new WeakMap();

function chartLibrary() {
  if (!window.Chart) throw new Error('Chart.js did not load (static/chartjs/chart.umd.js)');
  return window.Chart;
}

function draw(canvas, config) {
  const Chart = chartLibrary();
  const full = {...config, options: {animation: false, ...config.options}};
  const chart = new Chart(canvas, full);
  live.add(chart);
  configs.set(chart, full);
  return chart;
}

function forget(chart) {
  chart.destroy();
  live.delete(chart);
}

/** Destroy every chart drawn so far (before a view is redrawn). */
export function destroyCharts() {
  for (const chart of live) chart.destroy();
  live.clear();
}

/**
 * Update the chart on `shown` (a canvas on screen) with the data and options of the chart just
 * drawn on `drawn` (a canvas of a new drawing, not on screen), which is destroyed: the chart
 * on screen changes without being redrawn from nothing.
 * @returns {boolean} False when they are not charts of the same type (nothing changed).
 */
export function carryChart(shown, drawn) {
  const Chart = chartLibrary();
  const kept = Chart.getChart(shown);
  const fresh = Chart.getChart(drawn);
  if (!kept || !fresh || kept.config.type !== fresh.config.type || !configs.has(fresh)) return false;
  const {data, options} = configs.get(fresh);
  kept.data = data;
  kept.options = options;
  kept.update('none');
  configs.set(kept, configs.get(fresh));
  forget(fresh);
  return true;
}

/** Destroy the charts whose canvas is no longer on the page (after an update in place). */
export function pruneCharts() {
  for (const chart of [...live]) {
    if (!chart.canvas?.isConnected) forget(chart);
  }
}

/**
 * A canvas in a sized box; `label` describes the chart to screen readers (role="img").
 * @returns {{box: HTMLElement, canvas: HTMLCanvasElement}}
 */
export function chartBox(label, className = 'chart') {
  const canvas = h('canvas', {role: 'img', 'aria-label': label});
  return {box: h('div', {class: className}, canvas), canvas};
}

/**
 * A line chart of one or more series of {date, value} points sharing their dates.
 * @param {HTMLCanvasElement} canvas
 * @param {Array<{label: string, points: Array<{date: string, value: number}>}>} series
 * @param {{bars?: boolean}} options bars: draw bars instead of lines.
 */
export function lineChart(canvas, series, {bars = false} = {}) {
  const labels = (series[0]?.points ?? []).map((p) => p.date);
  return draw(canvas, {
    type: bars ? 'bar' : 'line',
    data: {
      labels,
      datasets: series.map((s, i) => ({
        label: s.label, data: s.points.map((p) => p.value), borderColor: PALETTE[i],
        backgroundColor: PALETTE[i], cubicInterpolationMode: 'monotone', pointRadius: 2,
      })),
    },
    options: {
      responsive: true, maintainAspectRatio: false,
      plugins: {legend: {display: series.length > 1}},
      scales: {y: {beginAtZero: true, ticks: {precision: 0}}},
    },
  });
}

/**
 * A trend line without axes (the target apps list).
 * @param {HTMLCanvasElement} canvas
 * @param {Array<{date: string, value: number}>} points
 */
export function sparkline(canvas, points) {
  return draw(canvas, {
    type: 'line',
    data: {
      labels: points.map((p) => p.date),
      datasets: [{data: points.map((p) => p.value), borderColor: PALETTE[0], borderWidth: 1.5,
        pointRadius: 0, cubicInterpolationMode: 'monotone'}],
    },
    options: {
      responsive: true, maintainAspectRatio: false, events: [],
      plugins: {legend: {display: false}, tooltip: {enabled: false}},
      scales: {x: {display: false}, y: {display: false, beginAtZero: true}},
    },
  });
}

/**
 * A distribution (doughnut) chart of breakdown items.
 * @param {HTMLCanvasElement} canvas
 * @param {Array<{key: string, count: number, share: number}>} items
 * @param {function(string): string} label The words of an item's key.
 */
export function distributionChart(canvas, items, label = slugLabel) {
  return draw(canvas, {
    type: 'doughnut',
    data: {
      labels: items.map((item) => label(item.key)),
      datasets: [{data: items.map((item) => item.count),
        backgroundColor: items.map((_, i) => PALETTE[i % PALETTE.length])}],
    },
    options: {
      responsive: true, maintainAspectRatio: false,
      plugins: {
        legend: {display: false},
        tooltip: {callbacks: {label: (c) => `${c.label}: ${c.raw} (${formatShare(items[c.dataIndex].share)})`}},
      },
    },
  });
}

/** The colour of the i-th item of a distribution chart (its table shows the same swatch). */
export function swatch(i) {
  return PALETTE[i % PALETTE.length];
}
