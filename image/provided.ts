// What providing an image did.
export interface Provided {
  /** the name it is known by in buildah's storage */
  ref: string;
  /** the recipe it was built from (the label on the image) */
  hash: string;
  /** the image with this recipe was already in the storage */
  cached: boolean;
  /** what this run spent on it */
  seconds: number;
  /** the image that had the name before this run built a new one: unused now, removed once its children are */
  superseded?: string;
}
