/** The part of jStat (jstat on npm, no bundled types) the measured savings use. */
declare module 'jstat' {
  const jstat: {
    jStat: {
      studentt: {
        /** Quantile of Student's t with `dof` degrees of freedom. */
        inv(p: number, dof: number): number;
      };
    };
  };
  export default jstat;
}
