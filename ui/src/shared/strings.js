// Every word the pages show, by language (keys group by screen); Italian is the default.
import en from './strings/en.js';
import it from './strings/it.js';

export const STRINGS = { it, en };
