// Only what the pane uses, so the bundle leaves out the rest of the library.
export { Encrypter } from 'age-encryption';
