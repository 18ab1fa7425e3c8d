/**
 * Building blocks shared by the views: metric cards and the performance section, table cells,
 * the "hidden for your role" note, and the reading of FORBIDDEN / NOT_FOUND errors by field
 * path.
 */

import {chartBox, lineChart} from './charts.js';
import {h, section} from './dom.js';
import {changeBadge, formatValue} from './format.js';
import {PERFORMANCE_CARDS} from './queries.js';

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

/**
 * An entity of an answer as a view shows it: a field is shown when answered; it is hidden by
 * the role when left out of the query (Viewer.readableFields) or answered FORBIDDEN /
 * NOT_FOUND (a field null for another error is reported in the error box instead). `missing`
 * collects the labels of what the role hides, for hiddenNote.
 *
 * Example: new Answered(data.targetApp, hidden, 'targetApp').part('retention', 'Retention',
 * draw) is draw(data.targetApp.retention), or null with 'Retention' in `missing`.
 */
export class Answered {
  /**
   * @param {Object} entity The entity's object in `data`.
   * @param {Set<string>} hidden Paths answered FORBIDDEN or NOT_FOUND (sortErrors).
   * @param {string} path The entity's response path, e.g. "targetApp.miniProgram".
   */
  constructor(entity, hidden, path) {
    this.entity = entity;
    this.hidden = hidden;
    this.path = path;
    this.missing = [];
  }

  /** @returns {boolean} True when `field` was answered and may be shown. */
  shows(field) {
    const value = this.entity[field];
    return value !== null && value !== undefined && !this.hidden.has(`${this.path}.${field}`);
  }

  /** @returns {boolean} True when the role hides `field` (not in the query, or refused). */
  roleHides(field) {
    return !(field in this.entity) || this.hidden.has(`${this.path}.${field}`);
  }

  /** Note the label of each of `specs` ({field, label}) the role hides. */
  noteHidden(specs) {
    this.missing.push(...specs.filter((s) => this.roleHides(s.field)).map((s) => s.label));
  }

  /**
   * `draw(value)` when `field` is shown; else null, noting `label` when the role hides it.
   * @returns {?HTMLElement}
   */
  part(field, label, draw) {
    if (this.shows(field)) return draw(this.entity[field]);
    if (this.roleHides(field)) this.missing.push(label);
    return null;
  }
}

/**
 * The performance cards (PERFORMANCE_CARDS) the entity answered, one of them charted per day;
 * clicking a card charts it. Null when the role hides them all (they are noted as missing).
 * @param {Answered} answer A target app or a mini program, with the cards' series.
 * @param {string} selected The charted metric's field (the first card when not shown).
 * @param {Function} onSelect Called with a card's field when it is clicked.
 * @returns {?HTMLElement}
 */
export function performanceSection(answer, selected, onSelect) {
  const cards = PERFORMANCE_CARDS.filter((card) => answer.shows(card.field));
  answer.noteHidden(PERFORMANCE_CARDS);
  if (!cards.length) return null;
  const chosen = cards.find((card) => card.field === selected) ?? cards[0];
  const {box, canvas} = chartBox(`${chosen.label} per day`);
  const figure = h('figure', {class: 'chart-card wide', id: 'performance-chart'},
    h('figcaption', {}, `${chosen.label} per day`), box);
  const group = h('div', {class: 'cards', role: 'group', 'aria-label': 'Performance metrics: select one to chart it'},
    cards.map((card) => metricCard(card, answer.entity[card.field],
      {onSelect, selected: card.field === chosen.field})));
  const result = section('performance', 'Performance metrics', group, figure);
  lineChart(canvas, [{label: chosen.label, points: answer.entity[chosen.field].series}]);
  return result;
}

/**
 * A Metric in a table cell: its value (raw number in data-value) and change badge, or "—".
 * @param {?{value: number, change: number, changeRate: ?number}} metric
 * @param {string} unit
 * @returns {Array|string}
 */
export function metricCell(metric, unit) {
  if (!metric) return '—';
  return [h('span', {class: 'num', dataset: {value: String(metric.value)}},
    formatValue(unit, metric.value)), ' ', changeBadge(metric, unit)];
}

/**
 * The "View" button of a list row, named after the item for screen readers.
 * @param {string} name
 * @param {Function} onClick
 * @returns {HTMLElement}
 */
export function viewButton(name, onClick) {
  return h('button', {type: 'button', class: 'secondary', onclick: onClick,
    'aria-label': `View ${name}`}, 'View');
}

/**
 * "The first n of total, in this order." under a list that shows only its first page.
 * @param {number} shown
 * @param {number} total
 * @returns {?HTMLElement}
 */
export function moreNote(shown, total) {
  return total > shown ? h('p', {class: 'hint'}, `The first ${shown} of ${total}, in this order.`) : null;
}
