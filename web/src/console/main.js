// The staff console (issue 14). This shell only proves the page, its
// assets and its headers; the pages themselves build on src/lib.
import { $, h, replace } from '../lib/dom.js';

replace($('#app'), h('p', {}, 'The staff console is being built.'));
