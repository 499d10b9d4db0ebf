// The Express 4 copy installed for the test matrix shares Express's own type declarations.
declare module 'express4' {
  import express from 'express';
  export default express;
}
