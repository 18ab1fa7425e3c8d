/**
 * The data overview of a workspace (seeds: "Data overview" and the Dashboard's merchant
 * onboarding and target apps): metric cards, retention, the audience portrait (users by
 * platform and region), merchant onboarding charts, and the
 * target apps ranked by users or mini program count with change indicators and trend lines.
 */

import {chartBox, lineChart, sparkline} from './charts.js';
import {Answered, hiddenNote, metricCard, metricCell, moreNote, viewButton} from './cards.js';
import {h, radioGroup, section, table} from './dom.js';
import {OVERVIEW_CARDS} from './queries.js';
import {portraitSection} from './breakdowns.js';
import {retentionSection} from './retention.js';

const MERCHANT_SERIES = [
  {field: 'newTechnical', label: 'New technical merchants'},
  {field: 'cumulativeTechnical', label: 'Cumulative technical merchants'},
  {field: 'newNonTechnical', label: 'New non-technical merchants'},
  {field: 'cumulativeNonTechnical', label: 'Cumulative non-technical merchants'},
];

const COUNT_CARDS = [
  {field: 'createdMiniPrograms', label: 'Created mini programs', unit: 'count'},
  {field: 'availableMiniPrograms', label: 'Available mini programs', unit: 'count'},
];

function mauCard(mau) {
  const current = new Date().toISOString().slice(0, 7) === mau.month;
  return metricCard({field: 'monthlyActiveUsers', label: 'MAU', unit: 'users'}, mau,
    {note: `${mau.month}${current ? ' (month to date)' : ''}, vs the month before`});
}

function cards(answer) {
  const shown = [];
  const workspace = answer.entity;
  const mau = workspace.monthlyActiveUsers?.at(-1);
  for (const card of [...OVERVIEW_CARDS, {field: 'monthlyActiveUsers', label: 'MAU'}, ...COUNT_CARDS]) {
    const value = workspace[card.field];
    if (!answer.shows(card.field)) {
      if (answer.roleHides(card.field)) answer.missing.push(card.label);
    } else if (card.field === 'monthlyActiveUsers') {
      if (mau) shown.push(mauCard(mau));
    } else if (card.field === 'availableMiniPrograms') {
      shown.push(metricCard(card, {value}, {note: 'now'}));
    } else {
      shown.push(metricCard(card, value));
    }
  }
  return shown;
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
  return radioGroup('Sort by', 'order', options, order, onSort);
}

function appRow(app, onOpen) {
  const trend = app.activeUsers ? chartBox(`Daily users of ${app.name}`, 'sparkline') : null;
  if (trend) sparkline(trend.canvas, app.activeUsers.series);
  return h('tr', {dataset: {app: app.id}},
    h('th', {scope: 'row'}, app.name),
    h('td', {class: 'users'}, metricCell(app.activeUsers, 'users')),
    h('td', {class: 'trend'}, trend ? trend.box : '—'),
    h('td', {class: 'programs'}, metricCell(app.miniProgramCount, 'count')),
    h('td', {}, viewButton(app.name, () => onOpen(app.id))));
}

function targetApps(connection, filters, actions) {
  const rows = connection.nodes.map((app) => appRow(app, actions.openApp));
  return section('target-apps', `Target apps (${connection.totalCount})`,
    sortControl(filters.order, actions.sortApps),
    table('Target apps with users, trend and mini programs', ['App', 'Users', 'Trend', 'Mini programs', ''],
      rows, {class: 'apps'}),
    moreNote(rows.length, connection.totalCount));
}

/**
 * Render the overview of `workspace` (the DataOverview answer) into `root`.
 * @param {HTMLElement} root
 * @param {Object} workspace data.workspace
 * @param {Set<string>} hidden Paths answered FORBIDDEN or NOT_FOUND.
 * @param {Object} filters The filters of the view.
 * @param {{openApp: Function, sortApps: Function, setRetention: Function}} actions
 */
export function renderOverview(root, workspace, hidden, filters, actions) {
  const answer = new Answered(workspace, hidden, 'workspace');
  const shown = cards(answer);
  const parts = [h('h2', {class: 'view-title', id: 'view-title'}, `Data overview · ${workspace.name}`)];
  if (shown.length) {
    parts.push(section('data-overview', 'Data overview', h('div', {class: 'cards'}, shown)));
  } else if (answer.missing.length) {
    parts.push(h('p', {class: 'empty'}, 'Your role cannot read this workspace\'s analytics.'));
  }
  parts.push(
    answer.part('retention', 'Retention',
      (retention) => retentionSection(retention, filters, actions.setRetention)),
    portraitSection(answer),
    answer.part('merchantOnboarding', 'Merchant onboarding', onboarding),
    answer.part('targetApps', 'Target apps', (list) => targetApps(list, filters, actions)));
  parts.splice(1, 0, hiddenNote(answer.missing));
  root.replaceChildren(...parts.filter(Boolean));
}
