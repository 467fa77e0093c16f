export { LocalStore } from './local-store.js';
