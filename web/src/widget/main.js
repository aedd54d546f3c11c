// The chat widget (issue 14); being built.
import { $, h, replace } from '../lib/dom.js';

replace($('#app'), h('p', {}, 'Chat is starting…'));
