/**
 * The data overview of a workspace (seeds: "Data overview" and the Dashboard's merchant
 * onboarding and target apps): metric cards, merchant onboarding charts, and the target apps
 * ranked by users or mini program count with change indicators and trend lines.
 */

import {chartBox, lineChart, sparkline} from './charts.js';
import {hiddenNote, metricCard} from './cards.js';
import {h, section} from './dom.js';
import {changeBadge, formatValue} from './format.js';
import {OVERVIEW_CARDS} from './queries.js';

const MERCHANT_SERIES = [
  {field: 'newTechnical', label: 'New technical merchants'},
  {field: 'cumulativeTechnical', label: 'Cumulative technical merchants'},
  {field: 'newNonTechnical', label: 'New non-technical merchants'},
  {field: 'cumulativeNonTechnical', label: 'Cumulative non-technical merchants'},
];

function visible(workspace, hidden, field) {
  return workspace[field] !== null && workspace[field] !== undefined
    && !hidden.has(`workspace.${field}`);
}

/** Not shown because of the role: left out of the query, or answered FORBIDDEN / NOT_FOUND
 * (a field null for another error is reported in the error box instead). */
function roleHides(workspace, hidden, field) {
  return !(field in workspace) || hidden.has(`workspace.${field}`);
}

const COUNT_CARDS = [
  {field: 'createdMiniPrograms', label: 'Created mini programs', unit: 'count'},
  {field: 'availableMiniPrograms', label: 'Available mini programs', unit: 'count'},
];

function mauCard(mau) {
  const current = new Date().toISOString().slice(0, 7) === mau.month;
  return metricCard({field: 'monthlyActiveUsers', label: 'MAU', unit: 'users'}, mau,
    {note: `${mau.month}${current ? ' (month to date)' : ''}, vs the month before`});
}

function cards(workspace, hidden) {
  const shown = [];
  const missing = [];
  const mau = workspace.monthlyActiveUsers?.at(-1);
  for (const card of [...OVERVIEW_CARDS, {field: 'monthlyActiveUsers', label: 'MAU'}, ...COUNT_CARDS]) {
    const value = workspace[card.field];
    if (!visible(workspace, hidden, card.field)) {
      if (roleHides(workspace, hidden, card.field)) missing.push(card.label);
    } else if (card.field === 'monthlyActiveUsers') {
      if (mau) shown.push(mauCard(mau));
    } else if (card.field === 'availableMiniPrograms') {
      shown.push(metricCard(card, {value}, {note: 'now'}));
    } else {
      shown.push(metricCard(card, value));
    }
  }
  return {shown, missing};
}

function onboarding(data) {
  const summary = [
    metricCard({field: 'newMerchants', label: 'Cumulative new merchants', unit: 'count'},
      data.newMerchants.all),
    metricCard({field: 'totalMerchants', label: 'Cumulative total merchants', unit: 'count'},
      data.totalMerchants.all),
  ];
  const charts = MERCHANT_SERIES.map((series) => {
    const {box, canvas} = chartBox(`${series.label} per day`);
    const points = data.series.map((p) => ({date: p.date, value: p[series.field]}));
    lineChart(canvas, [{label: series.label, points}], {bars: series.field.startsWith('new')});
    return h('figure', {class: 'chart-card'}, h('figcaption', {}, series.label), box);
  });
  return section('merchant-onboarding', 'Merchant onboarding',
    h('div', {class: 'cards'}, summary), h('div', {class: 'chart-grid'}, charts));
}

function sortControl(order, onSort) {
  const options = [['USER_COUNT', 'User count'], ['MINI_PROGRAM_COUNT', 'Mini program count']];
  return h('fieldset', {class: 'sort'}, h('legend', {}, 'Sort by'),
    options.map(([value, label]) => h('label', {},
      h('input', {type: 'radio', name: 'order', value, checked: value === order,
        onchange: () => onSort(value)}), ` ${label}`)));
}

function appRow(app, onOpen) {
  const trend = app.activeUsers ? chartBox(`Daily users of ${app.name}`, 'sparkline') : null;
  if (trend) sparkline(trend.canvas, app.activeUsers.series);
  const metric = (value, unit) => value
    ? [h('span', {class: 'num', dataset: {value: String(value.value)}}, formatValue(unit, value.value)),
      ' ', changeBadge(value, unit)]
    : '—';
  return h('tr', {dataset: {app: app.id}},
    h('th', {scope: 'row'}, app.name),
    h('td', {class: 'users'}, metric(app.activeUsers, 'users')),
    h('td', {class: 'trend'}, trend ? trend.box : '—'),
    h('td', {class: 'programs'}, metric(app.miniProgramCount, 'count')),
    h('td', {}, h('button', {type: 'button', class: 'secondary', onclick: () => onOpen(app.id),
      'aria-label': `View ${app.name}`}, 'View')));
}

function targetApps(connection, filters, actions) {
  const rows = connection.nodes.map((app) => appRow(app, actions.openApp));
  const table = h('table', {class: 'apps'},
    h('caption', {class: 'visually-hidden'}, 'Target apps with users, trend and mini programs'),
    h('thead', {}, h('tr', {},
      ['App', 'Users', 'Trend', 'Mini programs', ''].map((t) => h('th', {scope: 'col'}, t)))),
    h('tbody', {}, rows));
  const more = connection.totalCount > rows.length
    ? h('p', {class: 'hint'}, `The first ${rows.length} of ${connection.totalCount}, in this order.`)
    : null;
  return section('target-apps', `Target apps (${connection.totalCount})`,
    sortControl(filters.order, actions.sortApps), h('div', {class: 'table-wrap'}, table), more);
}

/**
 * Render the overview of `workspace` (the DataOverview answer) into `root`.
 * @param {HTMLElement} root
 * @param {Object} workspace data.workspace
 * @param {Set<string>} hidden Paths answered FORBIDDEN or NOT_FOUND.
 * @param {Object} filters The filters of the view.
 * @param {{openApp: Function, sortApps: Function}} actions
 */
export function renderOverview(root, workspace, hidden, filters, actions) {
  const {shown, missing} = cards(workspace, hidden);
  const parts = [h('h2', {class: 'view-title', id: 'view-title'}, `Data overview · ${workspace.name}`)];
  if (shown.length) {
    parts.push(section('data-overview', 'Data overview', h('div', {class: 'cards'}, shown)));
  } else if (missing.length) {
    parts.push(h('p', {class: 'empty'}, 'Your role cannot read this workspace\'s analytics.'));
  }
  if (visible(workspace, hidden, 'merchantOnboarding')) parts.push(onboarding(workspace.merchantOnboarding));
  else if (roleHides(workspace, hidden, 'merchantOnboarding')) missing.push('Merchant onboarding');
  if (visible(workspace, hidden, 'targetApps')) parts.push(targetApps(workspace.targetApps, filters, actions));
  else if (roleHides(workspace, hidden, 'targetApps')) missing.push('Target apps');
  parts.splice(1, 0, hiddenNote(missing));
  root.replaceChildren(...parts.filter(Boolean));
}
