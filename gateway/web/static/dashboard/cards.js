/**
 * Building blocks shared by the views: metric cards, the "hidden for your role" note, and the
 * reading of FORBIDDEN / NOT_FOUND errors by field path.
 */

import {h} from './dom.js';
import {changeBadge, formatValue} from './format.js';

/** Error codes that mean "not yours to see": the field is hidden, not reported as broken. */
export const HIDING_CODES = new Set(['FORBIDDEN', 'NOT_FOUND']);

/**
 * The paths (e.g. "workspace.estimatedAdRevenue") answered null because the caller may not
 * read them, and the other errors (to show).
 * @param {Array<Object>} errors
 * @returns {{hidden: Set<string>, shown: Array<Object>}}
 */
export function sortErrors(errors) {
  const hidden = new Set();
  const shown = [];
  for (const error of errors) {
    if (HIDING_CODES.has(error?.extensions?.code) && Array.isArray(error.path)) {
      hidden.add(error.path.join('.'));
    } else {
      shown.push(error);
    }
  }
  return {hidden, shown};
}

/**
 * A metric card: label, value in its unit and the change from the previous period. With
 * `onSelect` it is a toggle button (aria-pressed) that selects the metric.
 * @param {{field: string, label: string, unit: string}} card
 * @param {{value: number, change: number, changeRate: ?number}} metric
 * @param {{note?: string, onSelect?: Function, selected?: boolean}} options
 * @returns {HTMLElement}
 */
export function metricCard(card, metric, {note, onSelect, selected = false} = {}) {
  const body = [
    h('span', {class: 'card-label', id: `card-${card.field}-label`}, card.label),
    h('span', {class: 'card-value', dataset: {value: String(metric.value)}},
      formatValue(card.unit, metric.value)),
    'change' in metric ? changeBadge(metric, card.unit) : null,
    note ? h('span', {class: 'card-note'}, note) : null,
  ];
  const attrs = {class: 'card', dataset: {field: card.field}};
  if (!onSelect) return h('div', attrs, ...body);
  return h('button', {...attrs, type: 'button', class: 'card selectable',
    'aria-pressed': String(selected), onclick: () => onSelect(card.field)}, ...body);
}

/**
 * A note listing what the caller's role hides, or null when nothing is hidden.
 * @param {string[]} labels
 * @returns {?HTMLElement}
 */
export function hiddenNote(labels) {
  if (!labels.length) return null;
  return h('p', {class: 'hidden-note', id: 'hidden-note'},
    `Not shown for your role: ${labels.join(', ')}.`);
}
