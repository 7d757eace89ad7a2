// A modal confirmation (<dialog>): resolves true when the user confirms. With
// `typeToConfirm` the button stays disabled until that exact text is typed.

import { h } from '../dom.js';

export interface ConfirmOptions {
  title: string;
  body: string;
  action: string;
  typeToConfirm?: string;
}

export function confirmDialog(options: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const confirmButton = h('button', { class: 'danger', id: 'confirm-ok', type: 'button' }, options.action);
    const cancelButton = h('button', { type: 'button', id: 'confirm-cancel' }, 'Cancel');
    const typed = options.typeToConfirm === undefined ? null : h('input', { id: 'confirm-text', autocomplete: 'off', placeholder: options.typeToConfirm });
    const dialog = h(
      'dialog',
      { id: 'confirm' },
      h('h2', {}, options.title),
      h('p', {}, options.body),
      typed && h('label', {}, `Type ${options.typeToConfirm} to confirm`, typed),
      h('div', { class: 'actions' }, cancelButton, confirmButton),
    );
    confirmButton.disabled = typed !== null;
    typed?.addEventListener('input', () => (confirmButton.disabled = typed.value !== options.typeToConfirm));
    const finish = (result: boolean): void => {
      dialog.close();
      dialog.remove();
      resolve(result);
    };
    confirmButton.addEventListener('click', () => finish(true));
    cancelButton.addEventListener('click', () => finish(false));
    dialog.addEventListener('cancel', () => finish(false));
    document.body.append(dialog);
    dialog.showModal();
    (typed ?? cancelButton).focus();
  });
}
