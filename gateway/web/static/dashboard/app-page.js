/**
 * A target app's details page (seed "Dashboard", target app details): real-time status counts,
 * the four performance cards whose trend is charted when clicked, and the four breakdowns as
 * distribution charts with share and change.
 */

import {chartBox, distributionChart, lineChart, swatch} from './charts.js';
import {hiddenNote, metricCard} from './cards.js';
import {h, section} from './dom.js';
import {deltaBadge, formatShare, formatValue, slugLabel} from './format.js';
import {BREAKDOWNS, PERFORMANCE_CARDS, STATUS_COUNTS} from './queries.js';

function readable(app, hidden, field) {
  return app[field] !== null && app[field] !== undefined && !hidden.has(`targetApp.${field}`);
}

/** Not shown because of the role (left out of the query, or FORBIDDEN / NOT_FOUND). */
function roleHides(app, hidden, field) {
  return !(field in app) || hidden.has(`targetApp.${field}`);
}

function statusCounts(counts) {
  return section('status-counts', 'Real-time mini program statistics',
    h('p', {class: 'hint'}, 'Current statuses: not affected by the time range.'),
    h('div', {class: 'cards compact'}, STATUS_COUNTS.map((status) =>
      metricCard({field: status.field, label: status.label, unit: 'count'}, {value: counts[status.field]}))));
}

function performance(app, cards, selected, onSelect) {
  const chosen = cards.find((card) => card.field === selected) ?? cards[0];
  const {box, canvas} = chartBox(`${chosen.label} per day`);
  const figure = h('figure', {class: 'chart-card wide', id: 'performance-chart'},
    h('figcaption', {}, `${chosen.label} per day`), box);
  const group = h('div', {class: 'cards', role: 'group', 'aria-label': 'Performance metrics: select one to chart it'},
    cards.map((card) => metricCard(card, app[card.field],
      {onSelect, selected: card.field === chosen.field})));
  const result = section('performance', 'Performance metrics', group, figure);
  lineChart(canvas, [{label: chosen.label, points: app[chosen.field].series}]);
  return result;
}

function breakdownRow(item, index, unit) {
  return h('tr', {dataset: {key: item.key}},
    h('th', {scope: 'row'}, h('span', {class: 'swatch', style: `background:${swatch(index)}`,
      'aria-hidden': 'true'}), slugLabel(item.key)),
    h('td', {}, h('span', {class: 'num'}, formatShare(item.share)), ' ',
      deltaBadge(item.shareChange, 'points')),
    h('td', {}, h('span', {class: 'num', dataset: {value: String(item.count)}},
      formatValue('count', item.count)), ' ', deltaBadge(item.countChange, 'count')));
}

function breakdown(spec, data) {
  const {box, canvas} = chartBox(`${spec.label}: share of each ${spec.item.toLowerCase()}`, 'chart donut');
  const table = h('table', {class: 'breakdown'},
    h('caption', {class: 'visually-hidden'}, spec.label),
    h('thead', {}, h('tr', {}, [spec.item, 'Share', spec.unit].map((t) => h('th', {scope: 'col'}, t)))),
    h('tbody', {}, data.items.map((item, i) => breakdownRow(item, i, spec.unit))));
  const result = h('section', {class: 'panel breakdown-card', id: spec.field,
    'aria-labelledby': `${spec.field}-title`},
  h('h3', {id: `${spec.field}-title`}, spec.label),
  h('p', {class: 'total'}, `${spec.total}: `,
    h('strong', {dataset: {value: String(data.total)}}, formatValue('count', data.total)), ' ',
    deltaBadge(data.total - data.previousTotal, 'count')),
  data.items.length ? box : h('p', {class: 'empty'}, 'No data in this range.'),
  h('div', {class: 'table-wrap'}, table));
  if (data.items.length) distributionChart(canvas, data.items);
  return result;
}

/**
 * Render a target app (the TargetAppDetails answer) into `root`.
 * @param {HTMLElement} root
 * @param {Object} app data.targetApp
 * @param {Set<string>} hidden Paths answered FORBIDDEN or NOT_FOUND.
 * @param {Object} filters The view's filters (`metric`: the charted performance metric).
 * @param {{back: Function, selectMetric: Function}} actions
 */
export function renderApp(root, app, hidden, filters, actions) {
  const missing = [];
  const parts = [
    h('nav', {'aria-label': 'Breadcrumb', class: 'crumbs'},
      h('button', {type: 'button', class: 'link', onclick: actions.back},
        `← ${app.workspace?.name ?? 'Dashboard'}`)),
    h('h2', {class: 'view-title', id: 'view-title'}, app.name),
  ];
  if (readable(app, hidden, 'miniProgramStatusCounts')) parts.push(statusCounts(app.miniProgramStatusCounts));
  else if (roleHides(app, hidden, 'miniProgramStatusCounts')) missing.push('Mini program statistics');
  const hiddenByRole = (specs) => specs.filter((s) => roleHides(app, hidden, s.field)).map((s) => s.label);
  const cards = PERFORMANCE_CARDS.filter((card) => readable(app, hidden, card.field));
  missing.push(...hiddenByRole(PERFORMANCE_CARDS));
  if (cards.length) parts.push(performance(app, cards, filters.metric, actions.selectMetric));
  const breakdowns = BREAKDOWNS.filter((spec) => readable(app, hidden, spec.field));
  missing.push(...hiddenByRole(BREAKDOWNS));
  if (breakdowns.length) {
    parts.push(section('breakdowns', 'Proportion breakdown',
      h('div', {class: 'breakdown-grid'}, breakdowns.map((spec) => breakdown(spec, app[spec.field])))));
  }
  parts.splice(2, 0, hiddenNote(missing));
  root.replaceChildren(...parts.filter(Boolean));
}

/**
 * The category slugs known from the app's mini programs by category (for the category filter).
 * @param {Object} app data.targetApp
 * @returns {string[]}
 */
export function categoriesOf(app) {
  return (app?.miniProgramsByCategory?.items ?? []).map((item) => item.key);
}
