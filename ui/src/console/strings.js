// The console's own words, added to those both pages share before any view is drawn: the
// citizens' page, on a slow phone, never downloads them.
import { addStrings } from '../shared/i18n.js';
import en from './strings/en.js';
import it from './strings/it.js';

addStrings({ it, en });
