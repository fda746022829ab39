// Express 4, installed under the alias `express4` so the suites run on Express 4 and 5.
declare module 'express4' {
  import express from 'express';
  export default express;
}
