/**
 * Breakdowns drawn as distribution (doughnut) charts beside a table of share and count with
 * their change: the target app's four (by source and category) and the audience portrait
 * (users by platform and by region) of the overview, the target-app page and the mini-program
 * page.
 *
 * Example: portraitSection(answer) is a section with "Users by platform" and "Users by
 * region", each a chart and its table; a region breakdown of more than nine countries shows its
 * eight largest and "Other regions" (the sums of the rest), nine slices at most.
 */

import {chartBox, distributionChart, swatch} from './charts.js';
import {h, section, table} from './dom.js';
import {deltaBadge, formatShare, formatValue, platformLabel, regionLabel, slugLabel} from './format.js';
import {PORTRAIT} from './queries.js';

/** The most regions a breakdown lists by name; the rest are summed as "Other regions". */
export const TOP_REGIONS = 8;
/** The key of the summed row (not a country code: those are two letters). */
export const OTHER_REGIONS = 'OTHER_REGIONS';

const LABELS = {platform: platformLabel, region: regionLabel};

/**
 * The items of a region breakdown as listed: the TOP_REGIONS largest (the API orders items by
 * count), then one row summing the others when there are more than one.
 * @param {Array<Object>} items Breakdown items.
 * @returns {Array<Object>}
 */
export function groupRegions(items) {
  if (items.length <= TOP_REGIONS + 1) return items;
  const rest = items.slice(TOP_REGIONS);
  const sum = (field) => rest.reduce((total, item) => total + (item[field] ?? 0), 0);
  const other = {key: OTHER_REGIONS, count: sum('count'), share: sum('share'),
    previousCount: sum('previousCount'), previousShare: sum('previousShare'),
    countChange: sum('countChange'), shareChange: sum('shareChange'), grouped: rest.length};
  return [...items.slice(0, TOP_REGIONS), other];
}

function row(item, index, label) {
  const name = item.key === OTHER_REGIONS ? `Other regions (${item.grouped})` : label(item.key);
  return h('tr', {dataset: {key: item.key}},
    h('th', {scope: 'row'}, h('span', {class: 'swatch', style: `background:${swatch(index)}`,
      'aria-hidden': 'true'}), name),
    h('td', {}, h('span', {class: 'num'}, formatShare(item.share)), ' ',
      deltaBadge(item.shareChange, 'points')),
    h('td', {}, h('span', {class: 'num', dataset: {value: String(item.count)}},
      formatValue('count', item.count)), ' ', deltaBadge(item.countChange, 'count')));
}

/**
 * One breakdown: its total with change, a doughnut of its items and their table.
 * @param {{field: string, label: string, total: string, item: string, unit: string,
 *   dimension?: string}} spec
 * @param {Object} data The Breakdown answer.
 * @returns {HTMLElement}
 */
export function breakdownCard(spec, data) {
  const label = LABELS[spec.dimension] ?? slugLabel;
  const items = spec.dimension === 'region' ? groupRegions(data.items) : data.items;
  const named = (key) => (key === OTHER_REGIONS ? 'Other regions' : label(key));
  const {box, canvas} = chartBox(`${spec.label}: share of each ${spec.item.toLowerCase()}`, 'chart donut');
  const result = h('section', {class: 'panel breakdown-card', id: spec.field,
    'aria-labelledby': `${spec.field}-title`},
  h('h3', {id: `${spec.field}-title`}, spec.label),
  h('p', {class: 'total'}, `${spec.total}: `,
    h('strong', {dataset: {value: String(data.total)}}, formatValue('count', data.total)), ' ',
    deltaBadge(data.total - data.previousTotal, 'count')),
  items.length ? box : h('p', {class: 'empty'}, 'No data in this range.'),
  table(spec.label, [spec.item, 'Share', spec.unit], items.map((item, i) => row(item, i, label)),
    {class: 'breakdown'}));
  if (items.length) distributionChart(canvas, items, named);
  return result;
}

/**
 * The breakdowns of `specs` the entity answered, in one grid; null when the role hides them
 * all (they are noted as missing).
 * @param {import('./cards.js').Answered} answer
 * @param {Array<Object>} specs
 * @param {string} id The section's id.
 * @param {string} title The section's heading.
 * @returns {?HTMLElement}
 */
export function breakdownSection(answer, specs, id, title) {
  const shown = specs.filter((spec) => answer.shows(spec.field));
  answer.noteHidden(specs);
  if (!shown.length) return null;
  return section(id, title, h('div', {class: 'breakdown-grid'},
    shown.map((spec) => breakdownCard(spec, answer.entity[spec.field]))));
}

/**
 * Users by platform and by region (the audience portrait): a user seen on two platforms or in
 * two countries counts in each, so counts may add up to more than the active users.
 * @param {import('./cards.js').Answered} answer
 * @returns {?HTMLElement}
 */
export function portraitSection(answer) {
  const found = breakdownSection(answer, PORTRAIT, 'portrait', 'Audience: platforms and regions');
  found?.querySelector('h2')?.after(h('p', {class: 'hint'},
    'Active users by the platform and country of their launches; a user seen on two counts in each.'));
  return found;
}
