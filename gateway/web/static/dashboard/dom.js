/**
 * Small DOM helpers: build elements without innerHTML (no markup injection from data).
 *
 * Example: h('button', {type: 'button', onclick: go}, 'View') is <button type="button">View</button>.
 */

/**
 * Create an element.
 * @param {string} tag The element name.
 * @param {Object<string, *>} attrs Attributes; `on…` keys add listeners, `dataset` sets data-*;
 *   null, undefined and false are left out, true sets an empty attribute.
 * @param {...*} children Nodes or text (arrays are flattened; null and false are skipped).
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/**
 * The element with id `id` (it must exist: the page declares it).
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

/**
 * A section with a heading, labelled by it.
 * @param {string} id Id of the section (its heading gets `${id}-title`).
 * @param {string} title
 * @param {...*} children
 * @returns {HTMLElement}
 */
export function section(id, title, ...children) {
  return h('section', {id, class: 'panel', 'aria-labelledby': `${id}-title`},
    h('h2', {id: `${id}-title`}, title), ...children);
}

/**
 * A scrollable table with a caption for screen readers, column headers and body rows.
 * @param {string} caption
 * @param {Array<string|HTMLElement>} headers Texts (made <th scope="col">) or ready cells.
 * @param {HTMLElement[]} rows
 * @param {Object<string, *>} attrs Attributes of the <table> (e.g. its class).
 * @returns {HTMLElement}
 */
export function table(caption, headers, rows, attrs = {}) {
  const head = headers.map((t) => (t instanceof Node ? t : h('th', {scope: 'col'}, t)));
  return h('div', {class: 'table-wrap'}, h('table', attrs,
    h('caption', {class: 'visually-hidden'}, caption),
    h('thead', {}, h('tr', {}, head)), h('tbody', {}, rows)));
}

/**
 * Radio buttons in a fieldset: one choice among `options`.
 * @param {string} legend
 * @param {string} name The inputs' name (unique on the page).
 * @param {Array<[string, string]>} options [value, label] pairs.
 * @param {string} chosen The checked value.
 * @param {Function} onChoose Called with the value chosen.
 * @returns {HTMLElement}
 */
export function radioGroup(legend, name, options, chosen, onChoose) {
  return h('fieldset', {class: 'sort'}, h('legend', {}, legend),
    options.map(([value, label]) => h('label', {},
      h('input', {type: 'radio', name, value, checked: value === chosen,
        onchange: () => onChoose(value)}), ` ${label}`)));
}
