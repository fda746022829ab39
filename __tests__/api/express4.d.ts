// `express4` is an npm alias of Express 4 for the tests that run on both majors; its API is the
// same as far as these tests go, so it reuses Express's types.
declare module 'express4' {
  import express from 'express';
  export default express;
}
