// A tiny element builder: h('tr', { 'data-topic': name }, h('td', {}, name)). Text is set
// as text nodes, never as HTML, so message keys and values cannot inject markup.

export type Child = Node | string | number | null | undefined | false;
export type Attributes = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

export function clear(element: Element): void {
  while (element.firstChild) element.removeChild(element.firstChild);
}

/** A table with a header row; rows are built by the caller. */
export function table(headers: string[], rows: HTMLTableRowElement[], attributes: Attributes = {}): HTMLTableElement {
  // A column whose first cell is a number (class "number") gets a right-aligned header too.
  const numeric = (index: number): boolean => rows[0]?.cells[index]?.classList.contains('number') ?? false;
  return h('table', attributes, h('thead', {}, h('tr', {}, ...headers.map((title, index) => h('th', { class: numeric(index) ? 'number' : undefined }, title)))), h('tbody', {}, ...rows));
}
