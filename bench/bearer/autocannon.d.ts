// The slice of autocannon's API the bench uses (the package ships no types).
declare module 'autocannon' {
  interface RequestParams {
    headers?: Record<string, string>;
    [key: string]: unknown;
  }
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    requests?: { setupRequest?: (req: RequestParams) => RequestParams }[];
  }
  interface Result {
    requests: { average: number };
    non2xx: number;
    errors: number;
  }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
