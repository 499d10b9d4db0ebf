import { ProductPage } from '../../lib/product-page';

export default ProductPage;
