// Original file: farm/v1/coordinator.proto


/**
 * A connected agent as seen next to the job.
 */
export interface ExplainAgent {
  'agentId'?: (string);
  'systems'?: (string)[];
  'supportedFeatures'?: (string)[];
  'mandatoryFeatures'?: (string)[];
  'maxJobs'?: (number);
  'running'?: (number);
  'draining'?: (boolean);
  /**
   * its system and features fit the job
   */
  'fits'?: (boolean);
}

/**
 * A connected agent as seen next to the job.
 */
export interface ExplainAgent__Output {
  'agentId': (string);
  'systems': (string)[];
  'supportedFeatures': (string)[];
  'mandatoryFeatures': (string)[];
  'maxJobs': (number);
  'running': (number);
  'draining': (boolean);
  /**
   * its system and features fit the job
   */
  'fits': (boolean);
}
